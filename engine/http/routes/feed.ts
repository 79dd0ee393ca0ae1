/**
 * The change feed's API: `GET /v1/events` (a cursor page, or Server-Sent Events resumable
 * with `Last-Event-ID`) and `/v1/subscriptions` (Standard Webhooks deliveries through
 * `WEBHOOK_SEND` jobs).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import {
  deleteSubscription,
  type FeedEventRow,
  insertSubscription,
  latestFeedEventId,
  listFeedEvents,
  listSubscriptions,
  type SubscriptionRow,
} from '../../db/feed.ts';
import { withTenant } from '../../db/rls.ts';
import { EVENT_TYPES, matchesType } from '../../feed/events.ts';
import { publicEvent } from '../../feed/index.ts';
import { HttpProblem, problem } from '../../problem.ts';
import { keyProblem } from '../../webhooks/keys.ts';
import { type ApiContext, principalOf, tenantOf } from '../context.ts';
import { auditedTransaction } from '../plugins/audit.ts';
import { type AnyRoute, defineRoute, type JsonSchema } from '../route.ts';
import type { RouteDeps } from './deps.ts';

const CURSOR = '^(evt_)?[0-9]{1,18}$';
const AFTER = '^((evt_)?[0-9]{1,18}|latest)$';
const TYPE_PATTERN = `^(\\*|(run|job|integration|file|feed)\\.(\\*|[a-z_]{1,40})|kb\\.(\\*|document\\.(\\*|[a-z_]{1,40})))$`;
/** How often an open stream looks for new events, and sends a comment to keep proxies from closing it. */
const POLL_MS = 500;
const KEEPALIVE_MS = 15_000;
/** Open streams one tenant may hold on one process (each reads the database twice a second). */
export const MAX_STREAMS_PER_TENANT = 20;

const eventSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'type', 'tenantId', 'entity', 'occurredAt', 'data'],
  properties: {
    id: { type: 'string', description: 'evt_<n>: receivers de-duplicate on it; n is the cursor.' },
    type: { type: 'string', enum: [...EVENT_TYPES] },
    tenantId: { type: 'string' },
    entity: {
      type: 'object',
      required: ['type', 'id', 'seq'],
      properties: {
        type: { type: 'string' },
        id: { type: 'string' },
        seq: { type: 'integer', description: "The event's place among its entity's events (1, 2, ...)." },
      },
    },
    occurredAt: { type: 'string', format: 'date-time' },
    data: { type: 'object' },
  },
};

const subscriptionSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'url', 'types', 'status', 'createdAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    url: { type: 'string' },
    types: { type: 'array', items: { type: 'string' } },
    status: { type: 'string', enum: ['active', 'disabled'] },
    statusReason: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    secret: { type: 'string', description: 'The whsec_ signing secret, in the creation answer only.' },
  },
};

interface EventsQuery {
  after?: string;
  types?: string;
  limit?: number;
}

interface SubscriptionBody {
  url: string;
  types: string[];
  secret?: string;
}

const toNumber = (cursor: string | undefined): number => (cursor ? Number(cursor.replace(/^evt_/, '')) : 0);

function subscriptionView(row: SubscriptionRow) {
  return {
    id: row.id,
    url: row.url,
    types: row.types,
    status: row.status,
    statusReason: row.status_reason,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export function feedRoutes(deps: RouteDeps): AnyRoute[] {
  const { db } = deps;
  const open = new Map<string, number>();
  const requireFeed = () => {
    if (!deps.feed?.on)
      throw problem.unavailable(deps.feed?.reason ?? 'the change feed is off in this process');
  };
  const read = (tenantId: string, afterId: number, limit: number) =>
    withTenant(db, tenantId, (trx) => listFeedEvents(trx, { tenantId, afterId, limit }));

  const events = defineRoute<Record<string, string>, EventsQuery>({
    method: 'GET',
    path: '/v1/events',
    operationId: 'listEvents',
    summary: "The tenant's change feed: a page after a cursor, or a stream (Server-Sent Events)",
    description:
      'Changes of runs, jobs, integrations and files, oldest first. With `Accept: text/event-stream` the answer ' +
      'is a stream of `id`, `event` and `data` lines that stays open; a client that reconnects with ' +
      '`Last-Event-ID` resumes after that event. Otherwise a JSON page: pass its `cursor` back as `after`; ' +
      '`more: true` means call again at once. Events are ordered per entity (`entity.seq`) and delivered at ' +
      'least once: de-duplicate on `id`.',
    tag: 'events',
    scope: 'tenant',
    query: {
      type: 'object',
      additionalProperties: false,
      properties: {
        after: {
          type: 'string',
          pattern: AFTER,
          description: 'An event id (evt_<n> or n): events after it; `latest`: only events from now on.',
        },
        types: { type: 'string', maxLength: 1000, description: 'Comma-separated types or `run.*` patterns.' },
        limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
      },
    },
    responses: {
      200: {
        description: 'A page of events (or, with Accept: text/event-stream, a stream of them).',
        schema: {
          type: 'object',
          required: ['items', 'cursor', 'more'],
          properties: {
            items: { type: 'array', items: eventSchema },
            cursor: { type: 'string' },
            more: { type: 'boolean' },
          },
        },
      },
    },
    errors: [429, 503],
    async handler(ctx, { query }) {
      requireFeed();
      const tenantId = tenantOf(ctx);
      const types = parseTypes(query.types);
      const lastEventId = ctx.get('last-event-id').trim();
      if (lastEventId !== '' && !new RegExp(CURSOR).test(lastEventId)) {
        throw problem.badRequest('Last-Event-ID must be an event id the feed sent (evt_<n> or n).');
      }
      const after =
        !lastEventId && query.after === 'latest'
          ? await withTenant(db, tenantId, (trx) => latestFeedEventId(trx, tenantId))
          : toNumber(lastEventId || query.after);
      const limit = query.limit ?? 100;
      if (ctx.accepts('json', 'text/event-stream') === 'text/event-stream') {
        const count = open.get(tenantId) ?? 0;
        if (count >= MAX_STREAMS_PER_TENANT) {
          throw new HttpProblem({
            status: 429,
            title: 'Too Many Requests',
            detail: `This tenant holds ${count} open event streams here already; close one, or poll with ?after=.`,
            headers: { 'retry-after': '5' },
          });
        }
        open.set(tenantId, count + 1);
        ctx.req.once('close', () => {
          const left = (open.get(tenantId) ?? 1) - 1;
          if (left > 0) open.set(tenantId, left);
          else open.delete(tenantId);
        });
        stream(ctx, (afterId) => read(tenantId, afterId, 200), after, types);
        return;
      }
      const rows = await read(tenantId, after, limit);
      const last = rows.at(-1);
      ctx.body = {
        items: rows.filter((r) => !types || matchesType(types, r.type)).map(publicEvent),
        cursor: String(last ? last.id : after),
        more: rows.length === limit,
      };
    },
  });

  const create = defineRoute<Record<string, string>, Record<string, never>, SubscriptionBody>({
    method: 'POST',
    path: '/v1/subscriptions',
    operationId: 'createSubscription',
    summary: 'Subscribe a URL to event types (Standard Webhooks deliveries)',
    description:
      'Each matching event is delivered as a `WEBHOOK_SEND` job: a POST signed with the subscription secret ' +
      '(Standard Webhooks; `webhook-id` is the event id), retried on the webhook schedule, through the SSRF ' +
      'guard. A receiver answering 410 Gone disables the subscription. Without `secret`, one is made and ' +
      'returned once.',
    tag: 'events',
    scope: 'tenant',
    body: {
      type: 'object',
      required: ['url', 'types'],
      additionalProperties: false,
      properties: {
        url: { type: 'string', format: 'uri', maxLength: 2000, pattern: '^https?://' },
        types: {
          type: 'array',
          minItems: 1,
          maxItems: 50,
          uniqueItems: true,
          items: { type: 'string', pattern: TYPE_PATTERN },
        },
        secret: { type: 'string', pattern: '^whsec_', maxLength: 200 },
      },
    },
    audit: { action: 'subscriptions.create', entityType: 'subscription', redactBody: ['secret'] },
    responses: { 201: { description: 'Subscribed.', schema: subscriptionSchema } },
    errors: [422, 503],
    async handler(ctx, { body }) {
      requireFeed();
      const secrets = deps.secrets;
      if (!secrets) throw problem.unavailable('Subscriptions need the secrets store.');
      for (const type of body.types) {
        if (type.endsWith('.*') || type === '*') continue;
        if (!(EVENT_TYPES as readonly string[]).includes(type)) {
          throw problem.unprocessable(
            `"${type}" is not an event type; expected one of ${EVENT_TYPES.join(', ')}.`,
          );
        }
      }
      const invalid = body.secret === undefined ? undefined : keyProblem('standard-webhooks', body.secret);
      if (invalid) throw problem.unprocessable(`secret: ${invalid}`);
      const secret = body.secret ?? `whsec_${randomBytes(24).toString('base64')}`;
      const tenantId = tenantOf(ctx);
      const id = randomUUID();
      const secretName = `FEED_SUBSCRIPTION_${id.replace(/-/g, '').toUpperCase()}`;
      const row = await auditedTransaction(
        ctx,
        db,
        201,
        async (trx) => {
          await secrets.put(tenantId, secretName, secret, trx);
          return insertSubscription(trx, {
            id,
            tenantId,
            url: body.url,
            types: body.types,
            secretName,
            createdBy: principalOf(ctx).sub,
          });
        },
        (r) => r.id,
      );
      ctx.status = 201;
      ctx.set('location', `/v1/subscriptions/${row.id}`);
      ctx.body = { ...subscriptionView(row), ...(body.secret === undefined ? { secret } : {}) };
    },
  });

  const list = defineRoute({
    method: 'GET',
    path: '/v1/subscriptions',
    operationId: 'listSubscriptions',
    summary: "The tenant's subscriptions (never their secrets)",
    tag: 'events',
    scope: 'tenant',
    responses: {
      200: {
        description: 'Every subscription.',
        schema: {
          type: 'object',
          required: ['items'],
          properties: { items: { type: 'array', items: subscriptionSchema } },
        },
      },
    },
    async handler(ctx) {
      const tenantId = tenantOf(ctx);
      const rows = await withTenant(db, tenantId, (trx) => listSubscriptions(trx, tenantId));
      ctx.body = { items: rows.map(subscriptionView) };
    },
  });

  const remove = defineRoute<{ id: string }>({
    method: 'DELETE',
    path: '/v1/subscriptions/{id}',
    operationId: 'deleteSubscription',
    summary: 'Delete a subscription and its secret',
    tag: 'events',
    scope: 'tenant',
    params: {
      type: 'object',
      required: ['id'],
      additionalProperties: false,
      properties: { id: { type: 'string', format: 'uuid' } },
    },
    audit: { action: 'subscriptions.delete', entityType: 'subscription' },
    responses: { 204: { description: 'Deleted.' } },
    errors: [404],
    async handler(ctx, { params }) {
      const tenantId = tenantOf(ctx);
      await auditedTransaction(
        ctx,
        db,
        204,
        async (trx) => {
          const row = await deleteSubscription(trx, tenantId, params.id);
          if (!row) throw problem.notFound();
          await deps.secrets?.remove(tenantId, row.secret_name, trx);
          return row;
        },
        (r) => r.id,
      );
      ctx.body = null;
      ctx.status = 204;
    },
  });

  const status = defineRoute({
    method: 'GET',
    path: '/v1/events/status',
    operationId: 'feedStatus',
    summary: 'Whether the change feed runs, and how far its replication slot is behind',
    tag: 'events',
    scope: 'tenant',
    responses: {
      200: {
        description: 'The feed of this process.',
        schema: {
          type: 'object',
          required: ['on'],
          properties: {
            on: { type: 'boolean' },
            reason: { type: 'string', description: 'Why it is off.' },
            lagBytes: { type: 'integer', description: 'How far the slot is behind the server (WAL bytes).' },
            retainedBytes: { type: 'integer', description: 'WAL the slot keeps on disk.' },
            maxLagBytes: {
              type: 'integer',
              description: 'Past this, the slot is dropped and a feed.gap reported.',
            },
            checkedAt: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
    handler(ctx) {
      ctx.body = deps.feed ?? { on: false, reason: 'the change feed is off in this process' };
    },
  });

  return [events, status, create, list, remove] as AnyRoute[];
}

function parseTypes(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const types = raw
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const bad = types.find((t) => !new RegExp(TYPE_PATTERN).test(t));
  if (bad !== undefined)
    throw problem.badRequest(`types: "${bad}" is not an event type or pattern such as run.*`);
  return types.length > 0 ? types : undefined;
}

/** Server-Sent Events: every event after `after`, then new ones as they are recorded. */
function stream(
  ctx: ApiContext,
  read: (afterId: number) => Promise<FeedEventRow[]>,
  after: number,
  types: string[] | undefined,
): void {
  const out = new PassThrough();
  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);
  ctx.status = 200;
  ctx.type = 'text/event-stream';
  ctx.set('cache-control', 'no-store');
  ctx.set('x-accel-buffering', 'no');
  ctx.body = out;
  let cursor = after;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let lastWrite = Date.now();
  const close = () => {
    closed = true;
    clearTimeout(timer);
    out.end();
  };
  ctx.req.once('close', close);
  out.write('retry: 2000\n\n');
  // A server that stops accepting connections (shutdown) ends its streams: clients reconnect elsewhere.
  const server = (ctx.req.socket as { server?: { listening: boolean } }).server;
  const poll = async () => {
    if (server && !server.listening) {
      // Ended, and the connection with it, so that the shutdown need not wait for it.
      ctx.res.once('finish', () => ctx.req.socket.end());
      close();
    }
    if (closed) return;
    try {
      for (;;) {
        const rows = await read(cursor);
        for (const row of rows) {
          cursor = Number(row.id);
          if (types && !matchesType(types, row.type)) continue;
          out.write(`id: ${row.id}\nevent: ${row.type}\ndata: ${JSON.stringify(publicEvent(row))}\n\n`);
          lastWrite = Date.now();
        }
        if (rows.length < 200 || closed) break;
      }
      if (Date.now() - lastWrite > KEEPALIVE_MS) {
        out.write(': keepalive\n\n');
        lastWrite = Date.now();
      }
    } catch {
      // The database went away for a moment: the client keeps its place and reconnects.
      close();
      return;
    }
    if (!closed) timer = setTimeout(() => void poll(), POLL_MS);
  };
  void poll();
}
