/**
 * What the web console needs beyond the rest of the API: the development sign-in, a change
 * feed of runs to poll, the list of jobs, the webhook deliveries with the runs they started,
 * and a workflow's manifest source.
 */
import fs from 'node:fs/promises';
import { isIP } from 'node:net';
import type { Knex } from 'knex';
import { mintToken } from '../../auth/mint.ts';
import { type AuthConfig, type Config, isLoopbackHost } from '../../config.ts';
import { JOB_TYPES } from '../../connector-sdk/index.ts';
import { listJobs } from '../../db/jobs.ts';
import { withTenant } from '../../db/rls.ts';
import { dbNowMicros, type RunRow, runChangesSince } from '../../db/runs.ts';
import { activeTenantIds, getTenant } from '../../db/tenants.ts';
import { listDeliveries } from '../../db/webhook-events.ts';
import { decodeCursor, encodeCursor } from '../../json/cursor.ts';
import { problem } from '../../problem.ts';
import { jobSummary, runSummary } from '../../runtime/views.ts';
import { TENANT_ID } from '../../tenants/status.ts';
import { type ApiContext, tenantOf } from '../context.ts';
import { type AnyRoute, defineRoute, type JsonSchema } from '../route.ts';
import {
  cursorSchema,
  jobSchema,
  limitSchema,
  type PageQuery,
  pageOf,
  RUN_STATUSES,
  runSummarySchema,
  TENANT_ID_PATTERN,
} from '../schemas.ts';
import { queryDate } from '../time.ts';
import type { RouteDeps } from './deps.ts';
import { MANIFEST_ID_PATTERN } from './workflows.ts';

/** How long a development sign-in token lives. */
export const DEV_TOKEN_TTL_S = 8 * 3600;
/** The change feed re-sends what changed in this last stretch: a transaction may commit late. */
export const CHANGES_OVERLAP_MS = 5000;

/**
 * The development sign-in is offered only when Atlas listens on loopback and signs tokens
 * with the development secret it made itself (no ATLAS_JWT_SECRET, no JWKS).
 */
export function devSignInOption(
  config: Pick<Config, 'host'>,
  auth: Pick<AuthConfig, 'jwtSecret' | 'jwksUrl'>,
  devSecretFile: string | undefined,
): { devSignIn?: { secret: string } } {
  if (devSecretFile === undefined || auth.jwtSecret === undefined || auth.jwksUrl !== undefined) return {};
  return isLoopbackHost(config.host) ? { devSignIn: { secret: auth.jwtSecret } } : {};
}

/** Why the development sign-in is refused for this request, or undefined when it is offered. */
function devSignInRefusal(ctx: ApiContext, enabled: boolean): string | undefined {
  if (!enabled) {
    return 'The development sign-in is offered only when Atlas listens on loopback with its development secret (no ATLAS_JWT_SECRET, no ATLAS_JWKS_URL); paste an API token instead.';
  }
  const forwarded = Object.keys(ctx.headers).some((h) => h.startsWith('x-forwarded-') || h === 'forwarded');
  if (forwarded) return 'The development sign-in is not offered through a proxy; paste an API token instead.';
  if (!isLoopbackAddress(ctx.req.socket.remoteAddress)) {
    return 'The development sign-in is offered only to this machine; paste an API token instead.';
  }
  return undefined;
}

function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const bare = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

const changesSchema: JsonSchema = {
  type: 'object',
  required: ['items', 'cursor'],
  properties: {
    items: { type: 'array', items: runSummarySchema },
    cursor: { type: 'string', description: 'Pass it back as `cursor` to get what changed since.' },
    more: { type: 'boolean', description: 'More changes wait: call again at once.' },
  },
};

const deliverySchema: JsonSchema = {
  type: 'object',
  required: ['id', 'route', 'eventId', 'eventType', 'receivedAt', 'runIds'],
  properties: {
    id: { type: 'string' },
    route: { type: 'string', description: 'The WebhookRoute manifest id.' },
    eventId: { type: 'string' },
    eventType: { type: 'string' },
    receivedAt: { type: 'string', format: 'date-time' },
    runIds: { type: 'array', items: { type: 'string', format: 'uuid' }, description: 'The runs it started.' },
    payload: { description: 'The verified body (with `payload=true`).' },
  },
};

interface ChangesQuery {
  cursor?: string;
  limit: number;
}

interface JobQuery extends PageQuery {
  type?: string;
  status?: string;
}

interface DeliveryQuery extends PageQuery {
  route?: string;
  eventId?: string;
  since?: string;
  until?: string;
  payload?: string;
}

export function consoleRoutes({ db, catalogue, devSignIn }: RouteDeps): AnyRoute[] {
  const signInInfo = defineRoute({
    method: 'GET',
    path: '/v1/dev/sign-in',
    operationId: 'getDevSignIn',
    summary: 'Whether the development sign-in is offered, and for which tenants',
    tag: 'console',
    scope: 'public',
    responses: {
      200: {
        description: 'Offered (with the active tenants) or not (with the reason).',
        schema: {
          type: 'object',
          required: ['available'],
          properties: {
            available: { type: 'boolean' },
            tenants: { type: 'array', items: { type: 'string' } },
            reason: { type: 'string' },
          },
        },
      },
    },
    async handler(ctx) {
      ctx.set('cache-control', 'no-store');
      const reason = devSignInRefusal(ctx, devSignIn !== undefined);
      if (reason) {
        ctx.body = { available: false, reason };
        return;
      }
      ctx.body = { available: true, tenants: await activeTenantIds(db, 200) };
    },
  });

  const signIn = defineRoute<Record<string, string>, Record<string, never>, { tenant: string }>({
    method: 'POST',
    path: '/v1/dev/sign-in',
    operationId: 'devSignIn',
    summary: 'Development sign-in: a token for one tenant, on loopback with the development secret only',
    tag: 'console',
    scope: 'public',
    body: {
      type: 'object',
      required: ['tenant'],
      additionalProperties: false,
      properties: { tenant: { type: 'string', pattern: TENANT_ID_PATTERN } },
    },
    errors: [403],
    responses: {
      201: {
        description: 'A token granting the tenant.',
        schema: {
          type: 'object',
          required: ['token', 'tenants', 'expiresAt'],
          properties: {
            token: { type: 'string' },
            tenants: { type: 'array', items: { type: 'string' } },
            expiresAt: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
    async handler(ctx, { body }) {
      ctx.set('cache-control', 'no-store');
      const reason = devSignInRefusal(ctx, devSignIn !== undefined);
      if (reason !== undefined || !devSignIn) throw problem.forbidden(reason ?? 'Not offered.');
      if (!TENANT_ID.test(body.tenant)) throw problem.unprocessable(`"${body.tenant}" is not a tenant id.`);
      const tenant = await getTenant(db, body.tenant);
      if (tenant?.status !== 'active') {
        throw problem.forbidden(`Tenant "${body.tenant}" does not exist or is disabled.`);
      }
      const token = await mintToken({
        secret: devSignIn.secret,
        sub: 'developer',
        tenants: [body.tenant],
        ttlSeconds: DEV_TOKEN_TTL_S,
      });
      ctx.status = 201;
      ctx.body = {
        token,
        tenants: [body.tenant],
        expiresAt: new Date(Date.now() + DEV_TOKEN_TTL_S * 1000).toISOString(),
      };
    },
  });

  const changes = defineRoute<Record<string, string>, ChangesQuery>({
    method: 'GET',
    path: '/v1/runs/changes',
    operationId: 'listRunChanges',
    summary: 'Runs created or changed since a cursor, oldest change first',
    description:
      'Without a cursor: the changes of the last few seconds. A run may come again (the latest state wins: replace it by id); a change is never skipped unless its transaction took longer than 5 s to commit.',
    tag: 'runs',
    scope: 'tenant',
    query: {
      type: 'object',
      additionalProperties: false,
      properties: {
        cursor: cursorSchema,
        limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
      },
    },
    responses: { 200: { description: 'What changed.', schema: changesSchema } },
    async handler(ctx, { query }) {
      const tenantId = tenantOf(ctx);
      const position = decodeCursor(query.cursor, 'string');
      const after = position === undefined ? undefined : parseChangePosition(position);
      const { rows, nowUs } = await withTenant(db, tenantId, (trx) =>
        runChanges(trx, tenantId, after, query.limit),
      );
      const more = rows.length > query.limit;
      const page = rows.slice(0, query.limit);
      // While more changes wait, the cursor moves to the last one sent (keyset paging).
      // Once caught up it steps back to "now minus the overlap": the next poll sees again
      // what changed in that stretch, including a transaction that committed after this
      // read. Positions are microseconds, PostgreSQL's own precision.
      const last = page.at(-1);
      const next: ChangePosition =
        more && last
          ? { us: BigInt(last.updated_us), id: last.id }
          : { us: nowUs - BigInt(CHANGES_OVERLAP_MS) * 1000n, id: '' };
      ctx.set('cache-control', 'no-store');
      ctx.body = {
        items: page.map((r) => ({ ...runSummary(r), updatedAt: r.updated_at.toISOString() })),
        cursor: encodeCursor(`${next.us}|${next.id}`),
        ...(more ? { more: true } : {}),
      };
    },
  });

  const jobs = defineRoute<Record<string, string>, JobQuery>({
    method: 'GET',
    path: '/v1/jobs',
    operationId: 'listJobs',
    summary: 'List jobs, newest first',
    tag: 'jobs',
    scope: 'tenant',
    query: {
      type: 'object',
      additionalProperties: false,
      properties: {
        type: { type: 'string', enum: [...JOB_TYPES] },
        status: { type: 'string', enum: [...RUN_STATUSES] },
        limit: limitSchema,
        cursor: cursorSchema,
      },
    },
    responses: { 200: { description: 'A page of jobs.', schema: pageOf(jobSchema) } },
    async handler(ctx, { query }) {
      const tenantId = tenantOf(ctx);
      const before = decodeCursor(query.cursor, 'string');
      const position = before === undefined ? undefined : parsePosition(before);
      const rows = await withTenant(db, tenantId, (trx) =>
        listJobs(trx, tenantId, {
          ...(query.type ? { type: query.type } : {}),
          ...(query.status ? { status: query.status } : {}),
          ...(position ? { before: position } : {}),
          limit: query.limit,
        }),
      );
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      ctx.body = {
        items: page.map(jobSummary),
        ...(last && rows.length > query.limit
          ? { nextCursor: encodeCursor(`${last.created_at.toISOString()}|${last.id}`) }
          : {}),
      };
    },
  });

  const deliveries = defineRoute<Record<string, string>, DeliveryQuery>({
    method: 'GET',
    path: '/v1/webhook-events',
    operationId: 'listWebhookEvents',
    summary: 'Webhook deliveries accepted for this tenant, newest first, with the runs they started',
    tag: 'webhooks',
    scope: 'tenant',
    query: {
      type: 'object',
      additionalProperties: false,
      properties: {
        route: { type: 'string', pattern: MANIFEST_ID_PATTERN },
        eventId: { type: 'string', minLength: 1, maxLength: 500 },
        since: { type: 'string', format: 'date-time' },
        until: { type: 'string', format: 'date-time' },
        payload: { type: 'string', enum: ['true', 'false'], description: 'Include the verified body.' },
        limit: limitSchema,
        cursor: cursorSchema,
      },
    },
    responses: { 200: { description: 'A page of deliveries.', schema: pageOf(deliverySchema) } },
    async handler(ctx, { query }) {
      const tenantId = tenantOf(ctx);
      const since = queryDate(query.since, 'since');
      const until = queryDate(query.until, 'until');
      const beforeId = decodeCursor(query.cursor, 'number');
      const withPayload = query.payload === 'true';
      const rows = await withTenant(db, tenantId, (trx) =>
        listDeliveries(trx, tenantId, {
          ...(query.route ? { route: query.route } : {}),
          ...(query.eventId ? { eventId: query.eventId } : {}),
          ...(since ? { since } : {}),
          ...(until ? { until } : {}),
          ...(beforeId !== undefined ? { beforeId } : {}),
          withPayload,
          limit: query.limit,
        }),
      );
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      ctx.body = {
        items: page.map((r) => ({
          id: String(r.id),
          route: r.route_id,
          eventId: r.event_id,
          eventType: r.event_type,
          receivedAt: r.received_at.toISOString(),
          runIds: r.run_ids ?? [],
          ...(withPayload ? { payload: r.payload } : {}),
        })),
        ...(last && rows.length > query.limit ? { nextCursor: encodeCursor(Number(last.id)) } : {}),
      };
    },
  });

  const source = defineRoute<{ id: string }>({
    method: 'GET',
    path: '/v1/workflows/{id}/source',
    operationId: 'getWorkflowSource',
    summary: "A workflow's manifest file as written (YAML or JSON)",
    tag: 'workflows',
    scope: 'tenant',
    params: {
      type: 'object',
      required: ['id'],
      additionalProperties: false,
      properties: { id: { type: 'string', pattern: MANIFEST_ID_PATTERN } },
    },
    responses: {
      200: {
        description: 'The file, as text; `atlas-manifest-file` names it.',
        contentType: 'text/plain',
        schema: { type: 'string' },
      },
    },
    async handler(ctx, { params }) {
      const entry = catalogue.workflow(params.id);
      if (!entry) throw problem.notFound(`There is no workflow "${params.id}".`);
      const text = await fs.readFile(entry.file, 'utf8').catch(() => undefined);
      if (text === undefined) throw problem.notFound(`The manifest file of ${params.id} is not readable.`);
      ctx.type = 'text/plain; charset=utf-8';
      ctx.set('atlas-manifest-file', encodeURIComponent(entry.file.split('/').slice(-2).join('/')));
      ctx.body = text;
    },
  });

  return [signInInfo, signIn, changes, jobs, deliveries, source] as AnyRoute[];
}

interface ChangePosition {
  /** Microseconds since the epoch. */
  us: bigint;
  id: string;
}

async function runChanges(
  trx: Knex.Transaction,
  tenantId: string,
  after: ChangePosition | undefined,
  limit: number,
): Promise<{ rows: Array<RunRow & { updated_us: string }>; nowUs: bigint; from: ChangePosition }> {
  const nowUs = await dbNowMicros(trx);
  const from = after ?? { us: nowUs - BigInt(CHANGES_OVERLAP_MS) * 1000n, id: '' };
  const rows = await runChangesSince(trx, tenantId, from, limit);
  return { rows, nowUs, from };
}

function parseChangePosition(position: string): ChangePosition {
  const match = /^(\d{1,20})\|([0-9a-f-]{0,36})$/.exec(position);
  if (!match) throw problem.badRequest('The cursor is not one this API issued.');
  return { us: BigInt(match[1]!), id: match[2]! };
}

/** `<ISO time>|<id>` from a cursor this API issued. */
function parsePosition(position: string): { at: Date; id: string } {
  const bar = position.indexOf('|');
  const at = new Date(position.slice(0, bar));
  const id = position.slice(bar + 1);
  if (bar < 0 || Number.isNaN(at.getTime()) || !/^[0-9a-f-]{0,36}$/.test(id)) {
    throw problem.badRequest('The cursor is not one this API issued.');
  }
  return { at, id };
}
