/**
 * The change feed's API: `GET /v1/events` (a cursor page, or Server-Sent Events resumable
 * with `Last-Event-ID`) and `/v1/subscriptions` (Standard Webhooks deliveries through
 * `WEBHOOK_SEND` jobs).
 */
import { latestFeedEventId, listFeedEvents } from '../../db/feed.ts';
import { withTenant } from '../../db/rls.ts';
import { EVENT_TYPES, matchesType } from '../../feed/events.ts';
import { publicEvent } from '../../feed/index.ts';
import { HttpProblem, problem } from '../../problem.ts';
import { tenantOf } from '../context.ts';
import { type AnyRoute, defineRoute, type JsonSchema } from '../route.ts';
import type { RouteDeps } from './deps.ts';
import { parseTypes, stream } from './feed-stream.ts';
import { subscriptionRoutes } from './feed-subscriptions.ts';

const CURSOR = '^(evt_)?[0-9]{1,18}$';
const AFTER = '^((evt_)?[0-9]{1,18}|latest)$';
/** Open streams one tenant may hold on one process (each reads the database when woken, or twice a second). */
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

interface EventsQuery {
  after?: string;
  types?: string;
  limit?: number;
}

const toNumber = (cursor: string | undefined): number => (cursor ? Number(cursor.replace(/^evt_/, '')) : 0);

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
      'Changes of runs, jobs, integrations, files and knowledge-base documents, oldest first. With `Accept: text/event-stream` the answer ' +
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
        // The response's close: the request's fires once its (empty) body is read, which may be at once.
        ctx.res.once('close', () => {
          const left = (open.get(tenantId) ?? 1) - 1;
          if (left > 0) open.set(tenantId, left);
          else open.delete(tenantId);
        });
        const wake = deps.feedWake;
        stream(
          ctx,
          (afterId) => read(tenantId, afterId, 200),
          after,
          types,
          wake && {
            get live() {
              return wake.live;
            },
            subscribe: (fn) => wake.subscribe(tenantId, fn),
          },
        );
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

  return [events, status, ...subscriptionRoutes(deps, requireFeed)] as AnyRoute[];
}
