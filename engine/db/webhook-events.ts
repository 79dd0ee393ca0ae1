/** Reads of accepted webhook deliveries (`webhook_events`) for the API. */
import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export interface DeliveryRow {
  id: string | number;
  route_id: string;
  event_id: string;
  event_type: string | null;
  received_at: Date;
  run_ids: string[] | null;
  payload?: unknown;
}

export interface DeliveryFilter {
  route?: string;
  eventId?: string;
  since?: Date;
  until?: Date;
  /** Deliveries with an id below this one (newest first). */
  beforeId?: number;
  withPayload: boolean;
  limit: number;
}

/** A page of the tenant's deliveries, newest first: one row more than `limit` says there is more. */
export async function listDeliveries(db: Db, tenantId: string, f: DeliveryFilter): Promise<DeliveryRow[]> {
  const q = db('webhook_events').where({ tenant_id: tenantId });
  if (f.route) q.andWhere('route_id', f.route);
  if (f.eventId) q.andWhere('event_id', f.eventId);
  if (f.since) q.andWhere('received_at', '>=', f.since);
  if (f.until) q.andWhere('received_at', '<', f.until);
  if (f.beforeId !== undefined) q.andWhere('id', '<', f.beforeId);
  const columns = ['id', 'route_id', 'event_id', 'event_type', 'received_at', 'run_ids'];
  return q
    .orderBy('id', 'desc')
    .limit(f.limit + 1)
    .select(f.withPayload ? [...columns, 'payload'] : columns);
}

/**
 * Deletes at most `batch` of a route's events received before `before` (oldest ids first by
 * the index); returns how many went. Called in a loop, it never holds long locks.
 */
export async function deleteRouteEventsBefore(
  db: Knex,
  routeId: string,
  before: Date,
  batch: number,
): Promise<number> {
  return db('webhook_events')
    .whereIn(
      'id',
      db('webhook_events')
        .select('id')
        .where('route_id', routeId)
        .andWhere('received_at', '<', before)
        .limit(batch),
    )
    .delete();
}
