/**
 * The Koa application. Middleware order is part of the contract (docs/ARCHITECTURE.md):
 * request id, error handler, inbound webhooks, then the route table (@koa/router): the route
 * is matched before the body is read, so each plugin knows what the route needs: body
 * limits, authPlugin, tenantPlugin, auditPlugin, then the route's schemas and handler.
 */
import type { Knex } from 'knex';
import Koa, { type Middleware, type Next } from 'koa';
import { cachedVerifier, makeTokenVerifier } from '../auth/verify.ts';
import type { AuthConfig, Config } from '../config.ts';
import type { ConnectorRegistry } from '../connector-sdk/index.ts';
import type { FeedStatus } from '../feed/index.ts';
import type { FeedWake } from '../feed/wake.ts';
import type { FileService } from '../files/service.ts';
import type { Logger } from '../log.ts';
import type { Catalogue } from '../manifest/catalogue.ts';
import type { PluginInfo } from '../plugins/types.ts';
import type { Runtime } from '../runtime/index.ts';
import { TenantRequestRate } from '../tenants/request-rate.ts';
import { makeTenantStatusCache } from '../tenants/status.ts';
import { jsonBody } from './body.ts';
import type { ApiContext } from './context.ts';
import { httpMetrics } from './metrics.ts';
import { errorHandler, requestId } from './middleware.ts';
import { openApiDocument } from './openapi.ts';
import { auditPlugin } from './plugins/audit.ts';
import { authPlugin } from './plugins/auth.ts';
import { tenantPlugin } from './plugins/tenant.ts';
import type { AnyRoute } from './route.ts';
import { routeTable } from './router.ts';
import { agentRoutes } from './routes/agents.ts';
import { auditRoutes } from './routes/audit.ts';
import { connectorRoutes } from './routes/connectors.ts';
import { consoleRoutes } from './routes/console.ts';
import type { RouteDeps, TenantSecrets } from './routes/deps.ts';
import { feedRoutes } from './routes/feed.ts';
import { fileRoutes } from './routes/files.ts';
import { integrationRoutes } from './routes/integrations.ts';
import { jobRoutes } from './routes/jobs.ts';
import { kbRoutes } from './routes/kb.ts';
import { metaRoutes } from './routes/meta.ts';
import { notificationRoutes } from './routes/notifications.ts';
import { oauthRoutes } from './routes/oauth.ts';
import { runRoutes } from './routes/runs.ts';
import { secretRoutes } from './routes/secrets.ts';
import { signalRoutes } from './routes/signals.ts';
import { tenantRoutes } from './routes/tenants.ts';
import { webhookRouteRoutes } from './routes/webhook-routes.ts';
import { workflowRoutes } from './routes/workflows.ts';
import { serveUi } from './ui.ts';

export interface AppDeps {
  config: Config;
  db: Knex;
  log: Logger;
  runtime: Runtime;
  catalogue: Catalogue;
  /** Token verification settings; `config.auth` unless resolved otherwise (the development secret). */
  auth?: AuthConfig;
  /** Inbound webhook routes (engine/webhooks): verified by their manifests, not by JWT. */
  webhooks?: Middleware;
  /** The tenant secrets store behind `/v1/secrets`. */
  secrets?: TenantSecrets;
  /** The connectors behind `/v1/connectors`, and where the plugins among them came from. */
  connectors?: ConnectorRegistry;
  plugins?: readonly PluginInfo[];
  /** File storage behind `/v1/files`. */
  files?: FileService;
  /** Offers the development sign-in (engine.ts decides: loopback and the development secret). */
  devSignIn?: { secret: string };
  /** The built web console; `dist/ui` by default. */
  uiDir?: string;
  /** Whether this process's change feed runs (engine/feed); without it `/v1/events` answers 503. */
  feed?: FeedStatus;
  /** Wakes `/v1/events` streams when their tenant's events are recorded (engine/feed/wake.ts). */
  feedWake?: FeedWake;
}

/** Every route of the API, in the order the OpenAPI document lists them. */
function apiRoutes(deps: RouteDeps): AnyRoute[] {
  let document: object | undefined;
  const routes: AnyRoute[] = [
    ...metaRoutes(deps, () => {
      document ??= openApiDocument(routes);
      return document;
    }),
    ...tenantRoutes(deps),
    // Before runRoutes: `/v1/runs/changes` must not be taken for a run id.
    ...consoleRoutes(deps),
    ...workflowRoutes(deps),
    ...runRoutes(deps),
    ...signalRoutes(deps),
    ...agentRoutes(deps),
    ...(deps.connectors ? connectorRoutes(deps.connectors, deps.plugins ?? []) : []),
    ...jobRoutes(deps),
    ...kbRoutes(deps),
    ...auditRoutes(deps),
    ...oauthRoutes(deps),
    ...integrationRoutes(deps),
    ...(deps.secrets ? secretRoutes(deps, deps.secrets) : []),
    ...webhookRouteRoutes(deps),
    ...(deps.files ? fileRoutes(deps, deps.files) : []),
    ...feedRoutes(deps),
    ...notificationRoutes(deps),
  ];
  return routes;
}

export function makeApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = deps.config.trustProxy;
  // Koa's default handler prints to stderr; the error handler below already logged it.
  app.silent = true;
  const tenants = makeTenantStatusCache(deps.db);
  app.use(requestId());
  app.use(observe());
  app.use(errorHandler(deps.log));
  app.use(serveUi(deps.uiDir));
  if (deps.webhooks) app.use(deps.webhooks);
  app.use(
    routeTable(apiRoutes({ ...deps, tenants }), [
      jsonBody(deps.config.bodyLimitBytes),
      authPlugin(verifierOf(deps.auth ?? deps.config.auth), deps.log),
      tenantPlugin(tenants, {
        rate: new TenantRequestRate(deps.db),
        perSecond: deps.config.tenantLimits.requestsPerSecond,
      }),
      auditPlugin(deps.db, deps.log),
    ] as Middleware[]),
  );
  return app;
}

/** Request count and latency by route template (never the raw path: ids would explode labels). */
/** The API's token verifier: each token's signature is checked once, not per request. */
function verifierOf(auth: AuthConfig) {
  const verifier = makeTokenVerifier(auth);
  return verifier && cachedVerifier(verifier);
}

function observe() {
  const metrics = httpMetrics();
  return async (ctx: ApiContext, next: Next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      metrics.observe(
        { method: ctx.method, route: ctx.state.route?.spec.path ?? 'unmatched', status: ctx.status },
        (performance.now() - started) / 1000,
      );
    }
  };
}
