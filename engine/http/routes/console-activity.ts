import { JOB_TYPES } from '../../connector-sdk/index.ts';
import { listJobs } from '../../db/jobs.ts';
import { withTenant } from '../../db/rls.ts';
import { listDeliveries } from '../../db/webhook-events.ts';
import { decodeCursor, encodeCursor } from '../../json/cursor.ts';
import { problem } from '../../problem.ts';
import { jobSummary } from '../../runtime/views.ts';
import { tenantOf } from '../context.ts';
import { defineRoute } from '../route.ts';
import { jobSchema, objectOf, type PageQuery, pageOf, pageQuery, RUN_STATUSES } from '../schemas.ts';
import { queryDate } from '../time.ts';
import type { RouteDeps } from './deps.ts';
import { MANIFEST_ID_PATTERN } from './workflows.ts';

const deliverySchema = objectOf(['id', 'route', 'eventId', 'eventType', 'receivedAt', 'runIds'], {
  id: { type: 'string' },
  route: { type: 'string', description: 'The WebhookRoute manifest id.' },
  eventId: { type: 'string' },
  eventType: { type: 'string' },
  receivedAt: { type: 'string', format: 'date-time' },
  runIds: { type: 'array', items: { type: 'string', format: 'uuid' }, description: 'The runs it started.' },
  payload: { description: 'The verified body (with `payload=true`).' },
});

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

export function jobsRoute({ db }: RouteDeps) {
  return defineRoute<Record<string, string>, JobQuery>({
    method: 'GET',
    path: '/v1/jobs',
    operationId: 'listJobs',
    summary: 'List jobs, newest first',
    tag: 'jobs',
    scope: 'tenant',
    query: pageQuery({
      type: { type: 'string', enum: [...JOB_TYPES] },
      status: { type: 'string', enum: [...RUN_STATUSES] },
    }),
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
}

export function deliveriesRoute({ db }: RouteDeps) {
  return defineRoute<Record<string, string>, DeliveryQuery>({
    method: 'GET',
    path: '/v1/webhook-events',
    operationId: 'listWebhookEvents',
    summary: 'Webhook deliveries accepted for this tenant, newest first, with the runs they started',
    tag: 'webhooks',
    scope: 'tenant',
    query: pageQuery({
      route: { type: 'string', pattern: MANIFEST_ID_PATTERN },
      eventId: { type: 'string', minLength: 1, maxLength: 500 },
      since: { type: 'string', format: 'date-time' },
      until: { type: 'string', format: 'date-time' },
      payload: { type: 'string', enum: ['true', 'false'], description: 'Include the verified body.' },
    }),
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
