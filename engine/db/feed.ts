/**
 * Queries of the change feed (engine/feed): its events, the entities' last states, the
 * subscriptions, and the replication slot it owns.
 */
import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export interface FeedEventRow {
  id: string;
  tenant_id: string;
  type: string;
  entity_type: string;
  entity_id: string;
  entity_seq: number;
  data: unknown;
  occurred_at: Date;
}

export interface FeedEventInsert {
  tenantId: string;
  type: string;
  entityType: string;
  entityId: string;
  data: unknown;
  sourceLsn: string | null;
  sourcePos: number | null;
  occurredAt: Date;
}

export interface EntityState {
  tenant_id: string;
  seq: number;
  state: string;
}

export interface SubscriptionRow {
  id: string;
  tenant_id: string;
  url: string;
  types: string[];
  secret_name: string;
  status: 'active' | 'disabled';
  status_reason: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The entity's last event, locked until the transaction ends (one writer per entity). */
export async function lockEntity(trx: Knex.Transaction, entityType: string, entityId: string) {
  const { rows } = await trx.raw<{ rows: EntityState[] }>(
    'select tenant_id, seq, state from feed_entities where entity_type = ? and entity_id = ? for update',
    [entityType, entityId],
  );
  return rows[0];
}

export async function saveEntity(
  trx: Knex.Transaction,
  e: { tenantId: string; entityType: string; entityId: string; seq: number; state: string },
): Promise<void> {
  await trx.raw(
    `insert into feed_entities (tenant_id, entity_type, entity_id, seq, state) values (?, ?, ?, ?, ?)
     on conflict (entity_type, entity_id) do update set seq = excluded.seq, state = excluded.state`,
    [e.tenantId, e.entityType, e.entityId, e.seq, e.state],
  );
}

/**
 * Inserts an event; undefined when its source change was recorded already (a replay), or when
 * its tenant was deleted since (its changes have no one to go to, and must not stall the feed).
 */
export async function insertFeedEvent(
  trx: Knex.Transaction,
  e: FeedEventInsert & { entitySeq: number },
): Promise<FeedEventRow | undefined> {
  const { rows } = await trx.raw<{ rows: FeedEventRow[] }>(
    `insert into feed_events (tenant_id, type, entity_type, entity_id, entity_seq, data, source_lsn, source_pos, occurred_at)
     select t.id, ?, ?, ?, ?, ?::jsonb, ?::pg_lsn, ?, ? from tenants t where t.id = ?
     on conflict (source_lsn, source_pos) do nothing
     returning id, tenant_id, type, entity_type, entity_id, entity_seq, data, occurred_at`,
    [
      e.type,
      e.entityType,
      e.entityId,
      e.entitySeq,
      JSON.stringify(e.data),
      e.sourceLsn,
      e.sourcePos,
      e.occurredAt,
      e.tenantId,
    ],
  );
  return rows[0];
}

/** The highest source LSN already turned into events: changes at or below it are replays. */
export async function lastSourceLsn(db: Db): Promise<string | undefined> {
  const { rows } = await db.raw<{ rows: Array<{ lsn: string | null }> }>(
    'select max(source_lsn)::text as lsn from feed_events',
  );
  return rows[0]?.lsn ?? undefined;
}

export interface EventPage {
  tenantId: string;
  afterId: number;
  limit: number;
  types?: readonly string[] | undefined;
}

/** A tenant's events after an id, oldest first (run inside withTenant). */
export async function listFeedEvents(db: Db, page: EventPage): Promise<FeedEventRow[]> {
  const { rows } = await db.raw<{ rows: FeedEventRow[] }>(
    `select id, tenant_id, type, entity_type, entity_id, entity_seq, data, occurred_at from feed_events
     where tenant_id = ? and id > ? order by id limit ?`,
    [page.tenantId, page.afterId, page.limit],
  );
  return rows;
}

/** The id of the tenant's newest event (0 without any): where a client that wants only new ones starts. */
export async function latestFeedEventId(db: Db, tenantId: string): Promise<number> {
  const { rows } = await db.raw<{ rows: Array<{ id: string | null }> }>(
    'select max(id)::text as id from feed_events where tenant_id = ?',
    [tenantId],
  );
  return Number(rows[0]?.id ?? 0);
}

export async function activeSubscriptions(db: Db, tenantIds: readonly string[]): Promise<SubscriptionRow[]> {
  if (tenantIds.length === 0) return [];
  const { rows } = await db.raw<{ rows: SubscriptionRow[] }>(
    `select * from feed_subscriptions where tenant_id = any(?) and status = 'active' order by created_at, id`,
    [tenantIds as string[]],
  );
  return rows;
}

export async function insertSubscription(
  db: Db,
  s: { id: string; tenantId: string; url: string; types: string[]; secretName: string; createdBy: string },
): Promise<SubscriptionRow> {
  const { rows } = await db.raw<{ rows: SubscriptionRow[] }>(
    `insert into feed_subscriptions (id, tenant_id, url, types, secret_name, created_by)
     values (?, ?, ?, ?, ?, ?) returning *`,
    [s.id, s.tenantId, s.url, s.types, s.secretName, s.createdBy],
  );
  return rows[0]!;
}

export async function listSubscriptions(db: Db, tenantId: string): Promise<SubscriptionRow[]> {
  const { rows } = await db.raw<{ rows: SubscriptionRow[] }>(
    'select * from feed_subscriptions where tenant_id = ? order by created_at, id',
    [tenantId],
  );
  return rows;
}

export async function deleteSubscription(
  db: Db,
  tenantId: string,
  id: string,
): Promise<SubscriptionRow | undefined> {
  const { rows } = await db.raw<{ rows: SubscriptionRow[] }>(
    'delete from feed_subscriptions where tenant_id = ? and id = ? returning *',
    [tenantId, id],
  );
  return rows[0];
}

/** A receiver that answered 410 Gone asked to be removed: its subscription stops. */
export async function disableSubscription(db: Db, id: string, reason: string): Promise<void> {
  await db.raw(
    `update feed_subscriptions set status = 'disabled', status_reason = ?, updated_at = now()
     where id = ? and status = 'active'`,
    [reason, id],
  );
}

// --- the replication slot ---------------------------------------------------------------

export interface Capability {
  walLevel: string;
  canReplicate: boolean;
  publication: boolean;
}

/** Whether this database can feed the change feed: wal_level, the replication right, the publication. */
export async function feedCapability(db: Db): Promise<Capability> {
  const { rows } = await db.raw<{ rows: Array<Capability & { wal_level: string; can_replicate: boolean }> }>(
    `select current_setting('wal_level') as wal_level,
       coalesce((select rolreplication or rolsuper from pg_roles where rolname = current_user), false)
         or pg_has_role(current_user, coalesce((select oid from pg_roles where rolname = 'rds_replication'), 0), 'member')
         as can_replicate,
       exists (select 1 from pg_publication where pubname = 'atlas_feed') as publication`,
  );
  const r = rows[0]!;
  return { walLevel: r.wal_level, canReplicate: r.can_replicate, publication: r.publication };
}

export interface SlotInfo {
  slot_name: string;
  active_pid: number | null;
  wal_status: string | null;
  /** WAL the slot keeps on disk (from its restart point to now). */
  retained_bytes: string | null;
  /** How far its confirmed position is behind the server's. */
  lag_bytes: string | null;
}

export async function slotInfo(db: Db, slot: string): Promise<SlotInfo | undefined> {
  const { rows } = await db.raw<{ rows: SlotInfo[] }>(
    `select slot_name, active_pid, wal_status,
       pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint::text as retained_bytes,
       pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint::text as lag_bytes
     from pg_replication_slots where slot_name = ? and database = current_database()`,
    [slot],
  );
  return rows[0];
}

/** Creates the slot (pgoutput) and records it (42710 when it exists already). */
export async function createSlot(db: Db, slot: string): Promise<void> {
  await db.raw(`select pg_create_logical_replication_slot(?, 'pgoutput')`, [slot]);
  await db.raw('insert into feed_slots (slot_name) values (?)', [slot]);
}

/** Whether a slot of this name was created here and not dropped by the feed (missing now: a gap). */
export async function slotRecorded(db: Db, slot: string): Promise<boolean> {
  const { rows } = await db.raw<{ rows: unknown[] }>(
    'select 1 from feed_slots where slot_name = ? and dropped_at is null',
    [slot],
  );
  return rows.length > 0;
}

/**
 * Ends the slot's reader (wherever it runs) and drops the slot; records why. True for the one
 * process that recorded the drop (two processes may decide it at once: one reports the gap).
 */
export async function dropSlot(
  db: Db,
  slot: string,
  reason: string,
  lagBytes: number | null,
): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    const info = await slotInfo(db, slot);
    if (!info) break;
    if (info.active_pid) {
      await db.raw('select pg_terminate_backend(?)', [info.active_pid]);
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    try {
      await db.raw('select pg_drop_replication_slot(?)', [slot]);
      break;
    } catch (err) {
      // 55006: taken again between the check and the drop; 42704: gone already.
      const code = (err as { code?: string }).code;
      if (code === '42704') break;
      if (code !== '55006') throw err;
    }
  }
  const { rowCount } = await db.raw<{ rowCount: number }>(
    `update feed_slots set dropped_at = now(), dropped_lag_bytes = ?, dropped_reason = ?
     where slot_name = ? and dropped_at is null`,
    [lagBytes, reason, slot],
  );
  return rowCount > 0;
}

export async function activeTenantIds(db: Db): Promise<string[]> {
  const { rows } = await db.raw<{ rows: Array<{ id: string }> }>(
    `select id from tenants where status = 'active' order by id`,
  );
  return rows.map((r) => r.id);
}

/**
 * Deletes up to `limit` events recorded before `before`, oldest first, never the one holding
 * the highest source position (replays are recognised by it); returns how many.
 */
export async function pruneFeedEvents(db: Db, before: Date, limit: number): Promise<number> {
  const { rowCount } = await db.raw<{ rowCount: number }>(
    `delete from feed_events where id in (
       select id from feed_events
        where created_at < ?
          and (source_lsn is null or source_lsn < (select max(source_lsn) from feed_events))
        order by created_at limit ?)`,
    [before, limit],
  );
  return rowCount ?? 0;
}
