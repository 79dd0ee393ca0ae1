/**
 * The webhook middleware, mounted before the API's JWT auth: a request whose path is a
 * WebhookRoute's is answered here, by the route's own verification; any other passes on.
 *
 * Order: method, content type, tenant, raw body (bounded), secret, signature on the raw
 * bytes, JSON, event id and type, then one transaction (see accept.ts). Every refusal is a
 * 4xx problem+json, counted in the metrics and in `webhook_rejections` (never in the audit
 * log: anyone can send one), and stores nothing else. A source refused too often on a route
 * gets 429 there before anything is read (rejections.ts).
 */
import type { Knex } from 'knex';
import type { Context, Next } from 'koa';
import type { Logger } from '../log.ts';
import { HttpProblem } from '../problem.ts';
import { RuntimeError } from '../runtime/errors.ts';
import { TENANT_ID, type TenantStatusCache } from '../tenants/status.ts';
import type { Acceptance, Delivery } from './accept.ts';
import type { WebhookMetrics } from './metrics.ts';
import type { RejectionLimiter, RejectionLog } from './rejections.ts';
import {
  checkContentType,
  keptHeaders,
  keptQuery,
  locate,
  parseBody,
  readRaw,
  WebhookRejection,
} from './request.ts';
import { type CompiledWebhookRoute, DEFAULT_EVENT_TYPE } from './routes.ts';
import { platformUse, type SecretResolver } from './secrets.ts';
import { verifyRequest } from './verify.ts';

export interface HandlerDeps {
  db: Knex;
  log: Logger;
  routes: ReadonlyMap<string, CompiledWebhookRoute>;
  tenants: TenantStatusCache;
  secrets: SecretResolver;
  metrics: WebhookMetrics;
  rejections: RejectionLog;
  limiter: RejectionLimiter;
  bodyLimitBytes: number;
  /** Commits a verified delivery (group-committed with the others arriving with it). */
  accept(delivery: Delivery): Promise<Acceptance>;
  /** Hands the runs a delivery committed to the queue (the runtime's run outbox). */
  dispatch?: () => void;
  now?: () => Date;
}

/** The header carrying each method's signature: kept out of `trigger.headers`. */
const SIGNATURE_HEADER: Record<string, string> = {
  'stripe-signature': 'stripe-signature',
  'telegram-secret-token': 'x-telegram-bot-api-secret-token',
  'teams-hmac': 'authorization',
  'standard-webhooks': 'webhook-signature',
};

export function webhookMiddleware(deps: HandlerDeps) {
  return async (ctx: Context, next: Next) => {
    const route = deps.routes.get(ctx.path);
    if (!route) return next();
    const started = performance.now();
    const source = ctx.ip;
    try {
      const wait = await deps.limiter.blockedFor(route.id, source);
      if (wait > 0) {
        throw new WebhookRejection(
          429,
          'rate_limited',
          `Too many refused deliveries from this address on ${route.path}; retry in ${wait} s.`,
          { 'retry-after': String(wait) },
        );
      }
      const { duplicate, note } = await receive(deps, ctx, route);
      ctx.status = route.response.status;
      ctx.body = route.response.body;
      ctx.set('atlas-webhook-outcome', duplicate ? 'duplicate' : 'accepted');
      if (note) ctx.set('atlas-webhook-note', note);
      deps.metrics.delivered(route.id, duplicate ? 'duplicate' : 'accepted', elapsed(started));
    } catch (err) {
      if (!(err instanceof WebhookRejection)) throw err;
      deps.metrics.delivered(route.id, 'rejected', elapsed(started));
      deps.metrics.rejected(route.id, err.reason, err.status);
      deps.rejections.record(route.id, err.reason, err.status, source);
      if (err.status !== 429) await deps.limiter.refused(route.id, source);
      throw new HttpProblem({
        status: err.status,
        detail: err.message,
        extra: { reason: err.reason },
        headers: err.headers,
      });
    }
  };
}

const elapsed = (started: number) => (performance.now() - started) / 1000;

async function receive(
  deps: HandlerDeps,
  ctx: Context,
  route: CompiledWebhookRoute,
): Promise<{ duplicate: boolean; note?: string }> {
  if (ctx.method !== route.method) {
    throw new WebhookRejection(405, 'method', `${route.path} accepts ${route.method} only.`, {
      allow: route.method,
    });
  }
  checkContentType(ctx);
  let body: Record<string, unknown> | undefined;
  const fromBody = route.tenantFrom?.source === 'body';
  const early = fromBody ? undefined : await resolveTenant(deps, ctx, route, undefined);
  const raw = await readRaw(ctx, deps.bodyLimitBytes);
  // A tenant named in the body needs the body parsed to find the secret; nothing acts on it
  // until the signature over the raw bytes has verified.
  if (fromBody) body = parseBody(raw);
  const tenantId = early ?? (await resolveTenant(deps, ctx, route, body));
  await verify(deps, ctx, route, tenantId, raw);
  body ??= parseBody(raw);
  const delivery = describe(deps, ctx, route, tenantId, body);
  try {
    const accepted = await deps.accept(delivery);
    if (accepted.runIds.length > 0) deps.dispatch?.();
    return accepted;
  } catch (err) {
    // The tenant was disabled after its cached status was read: the run insert refused it and
    // the transaction rolled back. Answer as for any disabled tenant.
    if (err instanceof RuntimeError && (err.code === 'tenant_disabled' || err.code === 'not_found'))
      throw new WebhookRejection(404, 'tenant_unknown', `There is no active tenant "${tenantId}".`);
    throw err;
  }
}

async function resolveTenant(
  deps: HandlerDeps,
  ctx: Context,
  route: CompiledWebhookRoute,
  body: Record<string, unknown> | undefined,
): Promise<string> {
  const named = route.tenantFrom ? locate(ctx, route.tenantFrom, body) : undefined;
  const tenantId = named ?? route.tenantFallback;
  if (tenantId === undefined) {
    throw new WebhookRejection(400, 'tenant_missing', `Name the tenant with ${route.tenantFrom?.text}.`);
  }
  if (!TENANT_ID.test(tenantId) || !(await deps.tenants.isActive(tenantId))) {
    throw new WebhookRejection(
      404,
      'tenant_unknown',
      `There is no active tenant "${tenantId.slice(0, 64)}".`,
    );
  }
  return tenantId;
}

async function verify(
  deps: HandlerDeps,
  ctx: Context,
  route: CompiledWebhookRoute,
  tenantId: string,
  raw: Buffer,
): Promise<void> {
  const secret = await deps.secrets.resolve(tenantId, route);
  if (secret === undefined) {
    deps.log.warn({ route: route.id, tenant: tenantId, secret: route.verify.secret }, 'webhook:no-secret');
    const why =
      platformUse(route) === 'never'
        ? ` (the platform's verifies only routes that fix the tenant or read it from the signed body)`
        : '';
    throw new WebhookRejection(
      401,
      'secret_missing',
      `Tenant "${tenantId}" has no ${route.verify.secret} of its own to verify ${route.id} deliveries with${why}.`,
    );
  }
  const verdict = verifyRequest(route.verify, {
    raw,
    header: (name) => ctx.get(name),
    secret: secret.value,
    toleranceSec: route.toleranceSec,
    nowSec: Math.floor((deps.now?.() ?? new Date()).getTime() / 1000),
  });
  if (!verdict.ok) throw new WebhookRejection(verdict.status, verdict.reason, verdict.detail);
}

function describe(
  deps: HandlerDeps,
  ctx: Context,
  route: CompiledWebhookRoute,
  tenantId: string,
  body: Record<string, unknown>,
): Delivery {
  const eventId = locate(ctx, route.eventId, body);
  if (eventId === undefined)
    throw new WebhookRejection(400, 'event_id_missing', `The event has no id at ${route.eventId.text}.`);
  let eventType = DEFAULT_EVENT_TYPE;
  if (route.eventType) {
    const found = locate(ctx, route.eventType, body);
    if (found === undefined)
      throw new WebhookRejection(
        400,
        'event_type_missing',
        `The event has no type at ${route.eventType.text}.`,
      );
    eventType = found;
  }
  const signatureHeader = SIGNATURE_HEADER[route.verify.method] ?? route.verify.header;
  return {
    route,
    tenantId,
    eventId,
    eventType,
    body,
    headers: keptHeaders(ctx, signatureHeader),
    query: keptQuery(ctx),
    requestId: ctx.state.requestId as string | undefined,
    receivedAt: deps.now?.() ?? new Date(),
  };
}
