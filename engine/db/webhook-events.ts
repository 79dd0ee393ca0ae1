/** Reads of accepted webhook deliveries (`webhook_events`) for the API. */
import type { Knex } from 'knex';
import type { SqlFunction } from './sql-functions.ts';

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

/** One delivery of a batch to record: its place in the batch and the workflows that may take it. */
export interface EventInsert {
  ord: number;
  /** False for a repeat of an earlier delivery in the same batch (only the first is inserted). */
  fresh: boolean;
  tenant_id: string;
  route_id: string;
  event_id: string;
  event_type: string;
  payload: unknown;
  received_at: string;
  candidates: string[];
}

/**
 * Inserts a batch's new events (a duplicate of a stored one inserts nothing; a disabled
 * tenant's deliveries neither) and reads, in the same statement, each tenant's status and
 * which candidate workflows it enabled or chose.
 */
export async function insertWebhookEvents(
  trx: Knex.Transaction,
  requests: EventInsert[],
): Promise<
  Array<{ ord: number; id: number | null; status: string | null; enabled: string[]; chosen: string[] }>
> {
  const { rows } = await trx.raw('select * from atlas_insert_webhook_events(?::jsonb)', [
    JSON.stringify(requests),
  ]);
  return rows;
}

/**
 * Records the runs each event started and appends the batch's audit entries (rows as
 * `audit_append` takes them, see `auditRowsJson`), in one statement.
 */
export async function settleEvents(
  trx: Knex.Transaction,
  links: Array<{ id: number; run_ids: string[] }>,
  auditRows: string,
): Promise<void> {
  await trx.raw(
    `with linked as (
       update webhook_events w set run_ids = array(select jsonb_array_elements_text(l.run_ids))::uuid[]
         from jsonb_to_recordset(?::jsonb) as l(id bigint, run_ids jsonb) where w.id = l.id
     )
     select audit_append(?::jsonb) as id`,
    [JSON.stringify(links), auditRows],
  );
}

export interface EventKey {
  tenant_id: string;
  route_id: string;
  event_id: string;
}

/**
 * The runs stored events started, by `[tenant, route, event]` as JSON. Read after an insert
 * that found them there: the insert waited for their transaction's commit, and this later
 * statement sees it.
 */
export async function storedRunIds(trx: Knex.Transaction, keys: EventKey[]): Promise<Map<string, string[]>> {
  const { rows } = await trx.raw<{ rows: Array<EventKey & { run_ids: string[] }> }>(
    `select w.tenant_id, w.route_id, w.event_id, w.run_ids from webhook_events w
       join jsonb_to_recordset(?::jsonb) as k(tenant_id text, route_id text, event_id text)
         on w.tenant_id = k.tenant_id and w.route_id = k.route_id and w.event_id = k.event_id`,
    [JSON.stringify(keys)],
  );
  return new Map(rows.map((r) => [eventKey(r), r.run_ids]));
}

export const eventKey = (k: EventKey) => JSON.stringify([k.tenant_id, k.route_id, k.event_id]);

// A repeat within the batch is not inserted (its first delivery is); a disabled tenant's
// deliveries insert nothing. The enabled subscribers are read in the same statement. Rows are
// inserted in key order, so that two batches in flight at once, each waiting on the other's
// uncommitted duplicates, cannot deadlock. A function (see sql-functions.ts), created by
// migration 340, recreated by 360.
export const INSERT_EVENTS_FUNCTION: SqlFunction = {
  name: 'atlas_insert_webhook_events',
  params: 'requests jsonb',
  returns: 'table (ord int, id bigint, status text, enabled text[], chosen text[])',
  body: `
  with req as (
    select * from jsonb_to_recordset(requests) as r(ord int, fresh boolean, tenant_id text, route_id text,
           event_id text, event_type text, payload jsonb, received_at timestamptz, candidates jsonb)
  ), tenant as (
    select r.ord, t.status from req r left join tenants t on t.id = r.tenant_id
  ), inserted as (
    insert into webhook_events (tenant_id, route_id, event_id, event_type, payload, received_at)
    select r.tenant_id, r.route_id, r.event_id, r.event_type, r.payload, r.received_at
      from req r join tenant t on t.ord = r.ord and t.status = 'active'
     where r.fresh
     order by r.tenant_id, r.route_id, r.event_id
    on conflict (tenant_id, route_id, event_id) do nothing
    returning id, tenant_id, route_id, event_id
  )
  select r.ord, i.id, t.status,
         array(select w.workflow_id from tenant_workflows w
                where w.tenant_id = r.tenant_id and w.enabled
                  and w.workflow_id in (select jsonb_array_elements_text(r.candidates))) as enabled,
         array(select w.workflow_id from tenant_workflows w
                where w.tenant_id = r.tenant_id
                  and w.workflow_id in (select jsonb_array_elements_text(r.candidates))) as chosen
    from req r
    join tenant t on t.ord = r.ord
    left join inserted i on r.fresh and i.tenant_id = r.tenant_id and i.route_id = r.route_id and i.event_id = r.event_id`,
};
