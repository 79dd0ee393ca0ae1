/**
 * Inbound webhooks: routes from WebhookRoute manifests, verified on the raw bytes with the
 * tenant's secret (or the platform's), de-duplicated by (tenant, route, event id), audited,
 * and turned into runs of the workflows that subscribe, all in one transaction.
 *
 *   const webhooks = makeWebhooks({ config, db, log, catalogue, secrets });
 *   app.use(webhooks.middleware);   // before the JWT auth plugin
 *   ...
 *   await webhooks.stop();
 */
import type { Knex } from 'knex';
import type { Middleware } from 'koa';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { Catalogue } from '../manifest/catalogue.ts';
import type { DefaultGate } from '../runtime/defaults.ts';
import type { SecretStore } from '../runtime/deps.ts';
import { makeTenantStatusCache } from '../tenants/status.ts';
import { makeAcceptor } from './accept.ts';
import { webhookMiddleware } from './handler.ts';
import { keyProblem } from './keys.ts';
import { webhookMetrics } from './metrics.ts';
import { pruneWebhookEvents } from './prune.ts';
import { pruneWebhookRejections, RejectionLimiter, RejectionLog } from './rejections.ts';
import { type CompiledWebhookRoute, compileWebhookRoutes } from './routes.ts';
import { makeSecretResolver, platformSecrets } from './secrets.ts';

export { type Acceptance, type Delivery, makeAcceptor } from './accept.ts';
export { pruneWebhookEvents } from './prune.ts';
export { pruneWebhookRejections } from './rejections.ts';
export { type CompiledWebhookRoute, compileWebhookRoutes, eventMatcher } from './routes.ts';
export {
  deriveTenantSecret,
  PLATFORM_SECRET_VARIABLE,
  platformSecretFor,
  platformSecrets,
  platformUse,
} from './secrets.ts';
export { type Verdict, verifyRequest } from './verify.ts';

export interface WebhookDeps {
  config: Config;
  db: Knex;
  log: Logger;
  catalogue: Catalogue;
  secrets: SecretStore;
  /** How long tenant statuses and secrets are cached (ms); 5 s by default. */
  cacheTtlMs?: number;
  /** How often expired event ids are pruned (ms); 10 minutes by default, 0 never. */
  pruneEveryMs?: number;
  /** Checks default-on workflows' needs for tenants that did not enable them; without it they are opt-in. */
  gate?: DefaultGate;
  /** Hands committed runs to the queue at once (else the runtime's sweep does, within a second). */
  dispatch?: () => void;
  now?: () => Date;
}

export interface Webhooks {
  middleware: Middleware;
  routes: ReadonlyMap<string, CompiledWebhookRoute>;
  prune(): Promise<number>;
  stop(): Promise<void>;
}

export function makeWebhooks(deps: WebhookDeps): Webhooks {
  const { config, db, log } = deps;
  const routes = compileWebhookRoutes(deps.catalogue, { defaultToleranceMs: config.webhooks.toleranceMs });
  const platform = platformSecrets(config, routes.values());
  for (const route of routes.values()) {
    const value = platform[route.verify.secret];
    const invalid = value === undefined ? undefined : keyProblem(route.verify.method, value);
    if (invalid) throw new Error(`${route.verify.secret} (the platform secret of ${route.id}): ${invalid}`);
  }
  const rejections = new RejectionLog(db, log, deps.now);
  const middleware = webhookMiddleware({
    db,
    log,
    routes,
    tenants: makeTenantStatusCache(db, deps.cacheTtlMs),
    secrets: makeSecretResolver({
      store: deps.secrets,
      platform,
      ...(deps.cacheTtlMs === undefined ? {} : { ttlMs: deps.cacheTtlMs }),
    }),
    metrics: webhookMetrics(),
    rejections,
    limiter: new RejectionLimiter(config.webhooks.rejectLimit),
    bodyLimitBytes: config.bodyLimitBytes,
    accept: makeAcceptor(db, log, deps.gate),
    ...(deps.dispatch ? { dispatch: deps.dispatch } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  }) as Middleware;
  const prune = async () =>
    (await pruneWebhookEvents(db, routes.values(), deps.now?.())) +
    (await pruneWebhookRejections(db, deps.now?.()));
  const every = deps.pruneEveryMs ?? 10 * 60_000;
  let running: Promise<unknown> = Promise.resolve();
  const timer =
    every > 0 && routes.size > 0
      ? setInterval(() => {
          running = prune().catch((err: unknown) => log.warn({ err }, 'webhook:prune-failed'));
        }, every).unref()
      : undefined;
  return {
    middleware,
    routes,
    prune,
    async stop() {
      clearInterval(timer);
      await running;
      await rejections.stop();
    },
  };
}
