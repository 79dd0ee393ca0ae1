/**
 * Queries of the notification tables: a tenant's settings (`notification_settings`), the
 * outbox of events to send (`notification_events`) and the throttle windows
 * (`notification_windows`). Every query names its tenant, except the sweep's first look for
 * due subjects, which is platform work.
 */
import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export interface NotificationSettingsRow {
  channels: Record<string, unknown>;
  events: string[];
  updated_by: string | null;
  updated_at: Date;
}

export interface NotificationEventRow {
  id: string;
  tenant_id: string;
  kind: string;
  subject: string;
  detail: Record<string, unknown>;
  created_at: Date;
}

export interface NewNotificationEvent {
  tenantId: string;
  kind: string;
  subject: string;
  detail: Record<string, unknown>;
}

export async function getNotificationSettings(
  db: Db,
  tenantId: string,
): Promise<NotificationSettingsRow | undefined> {
  return (await db('notification_settings')
    .where({ tenant_id: tenantId })
    .first('channels', 'events', 'updated_by', 'updated_at')) as NotificationSettingsRow | undefined;
}

export async function putNotificationSettings(
  db: Db,
  tenantId: string,
  doc: { channels: Record<string, unknown>; events: string[] },
  by: string,
): Promise<NotificationSettingsRow> {
  const values = { channels: JSON.stringify(doc.channels), events: doc.events, updated_by: by };
  const [row] = (await db('notification_settings')
    .insert({ tenant_id: tenantId, ...values })
    .onConflict('tenant_id')
    .merge({ ...values, updated_at: db.fn.now() })
    .returning(['channels', 'events', 'updated_by', 'updated_at'])) as NotificationSettingsRow[];
  return row!;
}

/**
 * Records an event in the outbox, in the caller's transaction, only when the tenant asked for
 * this kind of event and has a channel: tenants without notifications cost one index lookup.
 */
export async function recordNotificationEvent(db: Db, ev: NewNotificationEvent): Promise<void> {
  await db.raw(
    `insert into notification_events (tenant_id, kind, subject, detail)
     select ?, ?, ?, ?::jsonb
      where exists (select 1 from notification_settings s
                     where s.tenant_id = ? and ? = any(s.events) and s.channels <> '{}'::jsonb)`,
    [ev.tenantId, ev.kind, ev.subject, JSON.stringify(ev.detail), ev.tenantId, ev.kind],
  );
}

export interface DueSubject {
  tenant_id: string;
  kind: string;
  subject: string;
}

/** Subjects with events due now, oldest first (platform work: every tenant's). */
export async function dueSubjects(db: Db, limit: number): Promise<DueSubject[]> {
  const { rows } = await db.raw<{ rows: DueSubject[] }>(
    `select tenant_id, kind, subject from notification_events
      where due_at <= now()
      group by tenant_id, kind, subject
      order by min(id)
      limit ?`,
    [limit],
  );
  return rows;
}

/**
 * Locks the subject's throttle window (created empty the first time): one process at a time
 * decides what to send about a subject. Returns when the last message about it was sent and
 * whether that window is still open.
 */
export async function lockWindow(
  trx: Knex.Transaction,
  s: DueSubject,
  windowMs: number,
): Promise<{ lastSentAt: Date | null; openUntil: Date | null }> {
  await trx('notification_windows')
    .insert({ tenant_id: s.tenant_id, kind: s.kind, subject: s.subject })
    .onConflict(['tenant_id', 'kind', 'subject'])
    .ignore();
  const { rows } = await trx.raw<{ rows: Array<{ last_sent_at: Date | null; open_until: Date | null }> }>(
    `select last_sent_at,
            case when last_sent_at + make_interval(secs => ? / 1000.0) > now()
                 then last_sent_at + make_interval(secs => ? / 1000.0) end as open_until
       from notification_windows
      where tenant_id = ? and kind = ? and subject = ?
        for update`,
    [windowMs, windowMs, s.tenant_id, s.kind, s.subject],
  );
  return { lastSentAt: rows[0]?.last_sent_at ?? null, openUntil: rows[0]?.open_until ?? null };
}

/** The subject's due events, locked; another process's locked ones are left to it. */
export async function takeDueEvents(
  trx: Knex.Transaction,
  s: DueSubject,
  limit: number,
): Promise<NotificationEventRow[]> {
  return (await trx('notification_events')
    .where({ tenant_id: s.tenant_id, kind: s.kind, subject: s.subject })
    .andWhere('due_at', '<=', trx.fn.now())
    .orderBy('id')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .select('*')) as NotificationEventRow[];
}

/** Holds events until `until` (the end of their subject's throttle window). */
export async function holdEvents(
  trx: Knex.Transaction,
  tenantId: string,
  ids: readonly string[],
  until: Date,
): Promise<void> {
  await trx('notification_events')
    .where({ tenant_id: tenantId })
    .whereIn('id', ids)
    .update({ due_at: until });
}

/** Removes sent (or no longer wanted) events. */
export async function deleteEvents(trx: Knex.Transaction, tenantId: string, ids: readonly string[]) {
  await trx('notification_events').where({ tenant_id: tenantId }).whereIn('id', ids).delete();
}

/** Opens the subject's next window: a message about it was sent now. */
export async function markSent(trx: Knex.Transaction, s: DueSubject): Promise<void> {
  await trx('notification_windows')
    .where({ tenant_id: s.tenant_id, kind: s.kind, subject: s.subject })
    .update({ last_sent_at: trx.fn.now() });
}
