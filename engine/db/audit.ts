/**
 * The audit trail (`audit_log`): append-only, one row per mutation made through the API and
 * per external call made through the integration hub. Summaries are redacted here, at the
 * one door every entry passes, so a caller cannot forget to.
 */

import type { Knex } from 'knex';
import type { AuditEntry, AuditSink } from '../audit/entry.ts';
import { redact } from '../audit/redact.ts';
import { contentHash, payloadHash } from './audit-hash.ts';
import { chainAudit, deferRows } from './audit-pending.ts';
import { optional, storableJson, wellFormed } from './audit-storable.ts';
import { groupPerDatabase } from './group-commit.ts';

export interface AuditRecord {
  /** Null or absent for platform events (tenant management). */
  tenantId?: string | null;
  /** Token subject (`sub`) or the engine part that acted (`engine`, `run:<id>`). */
  actor: string;
  /** What happened, as `<family>.<verb>`: `runs.trigger`, `tenants.update`, `connector.call`. */
  action: string;
  entityType: string;
  entityId?: string | null;
  requestId?: string | null;
  /** HTTP status of the request or the provider's answer. */
  status?: number | null;
  result: 'ok' | 'error';
  /** Input worth keeping; redacted before it is stored. */
  summary?: unknown;
  connector?: string | null;
  method?: string | null;
  host?: string | null;
  path?: string | null;
  durationMs?: number | null;
  at?: Date;
}

export interface AuditRow {
  id: number;
  tenantId: string | null;
  at: string;
  actor: string;
  action: string;
  entityType: string;
  entityId: string | null;
  requestId: string | null;
  status: number | null;
  result: 'ok' | 'error';
  summary: unknown;
  connector: string | null;
  method: string | null;
  host: string | null;
  path: string | null;
  durationMs: number | null;
  /** Place in the tenant's hash chain, and the row's hash (hex). */
  seq: number;
  hash: string;
  /** When the payload (summary) was erased for retention; null while it is kept. */
  erasedAt: string | null;
}

/** Largest summary kept, in characters of JSON: an audit row is a receipt, not a copy. */
const SUMMARY_LIMIT = 8192;

/**
 * Appends one entry to its tenant's hash chain. Pass the transaction that made the change, so
 * the change and its audit row commit or roll back together; entries written outside a
 * transaction are group-committed with the others of this process (one statement, one disk
 * flush for all of them).
 */
export async function recordAudit(db: Knex | Knex.Transaction, entry: AuditRecord): Promise<number> {
  if (!db.isTransaction) return writers.of(db as Knex).submit(entry);
  const [id] = await appendAudit(db, [entry]);
  return id!;
}

/**
 * Runs a change and records its audit entry in one transaction (a savepoint inside `db` when
 * it is one), so neither exists without the other. `entry` is built from the change's result.
 *
 * In a transaction of its own, the entry waits in `audit_pending` and is chained by a batch
 * right after the commit (engine/db/audit-pending.ts): the change never holds its tenant's
 * chain head, so one tenant's concurrent changes commit together. It resolves once the entry
 * is chained; were that batch to fail, the entry stays recorded and a later batch chains it.
 */
export async function withAuditEntry<T>(
  db: Knex | Knex.Transaction,
  change: (trx: Knex.Transaction) => Promise<T>,
  entry: (result: T) => AuditRecord,
): Promise<T> {
  if (db.isTransaction) {
    return db.transaction(async (trx) => {
      const result = await change(trx);
      await recordAudit(trx, entry(result));
      return result;
    });
  }
  const { result, ids } = await db.transaction(async (trx) => {
    const result = await change(trx);
    return { result, ids: await deferAudit(trx, [entry(result)]) };
  });
  await chainAudit(db as Knex, ids).catch(() => {});
  return result;
}

/**
 * Records entries in the caller's transaction for the chain's next batch; returns their ids
 * for `chainAudit` (engine/db/audit-pending.ts) to call after the commit.
 */
export function deferAudit(trx: Knex.Transaction, entries: AuditRecord[]): Promise<number[]> {
  return deferRows(trx, entries.map(auditRow));
}

/** Many entries in one statement (a batch of webhook deliveries). */
export async function recordAudits(db: Knex | Knex.Transaction, entries: AuditRecord[]): Promise<void> {
  if (entries.length > 0) await appendAudit(db, entries);
}

const writers = groupPerDatabase<AuditRecord, number>(appendAudit);

/** Waits for audit entries still queued for their group commit (before the pool closes). */
export async function auditWritesSettled(db: Knex): Promise<void> {
  await writers.existing(db)?.settled();
}

/**
 * One statement: `audit_append` locks each chain's head (in a fixed order), numbers and
 * chains the rows, and inserts them. Returns their ids in the entries' order.
 */
async function appendAudit(db: Knex | Knex.Transaction, entries: AuditRecord[]): Promise<number[]> {
  const { rows } = await db.raw<{ rows: Array<{ id: string | number }> }>(
    'select audit_append(?::jsonb) as id',
    [auditRowsJson(entries)],
  );
  return rows.map((r) => Number(r.id));
}

/** Entries as `audit_append` takes them (its one argument), for a statement that calls it. */
export function auditRowsJson(entries: AuditRecord[]): string {
  return JSON.stringify(entries.map(auditRow));
}

function auditRow(entry: AuditRecord) {
  const summaryText = storableJson(redact(entry.summary ?? {}), SUMMARY_LIMIT);
  // What PostgreSQL will hold, so that the hashes are of what is stored: the JSON as parsed
  // back, text without NUL or lone surrogates (U+FFFD instead), the time in whole milliseconds.
  const summary: unknown = JSON.parse(summaryText);
  const at = entry.at ?? new Date();
  const fields = {
    tenant_id: entry.tenantId ?? null,
    at_us: String(at.getTime() * 1000),
    actor: wellFormed(entry.actor),
    action: wellFormed(entry.action),
    entity_type: wellFormed(entry.entityType),
    entity_id: optional(entry.entityId),
    request_id: optional(entry.requestId),
    status: entry.status ?? null,
    result: entry.result,
    connector: optional(entry.connector),
    method: optional(entry.method),
    host: optional(entry.host),
    path: optional(entry.path),
    duration_ms:
      entry.durationMs === undefined || entry.durationMs === null ? null : Math.round(entry.durationMs),
  };
  const payload = payloadHash(summary);
  return {
    ...fields,
    at: at.toISOString(),
    summary,
    payload_hash: payload.toString('hex'),
    content_hash: contentHash(fields, payload).toString('hex'),
  };
}

export interface AuditFilter {
  action?: string;
  entityType?: string;
  entityId?: string;
  actor?: string;
  since?: Date;
  until?: Date;
  /** Entries older than this id (the cursor of the previous page). */
  beforeId?: number;
  limit: number;
}

/**
 * Newest first, keyset-paginated by id. Call it inside `withTenant`; the explicit tenant
 * filter is the first wall, row-level security the second.
 */
export async function listAudit(
  db: Knex | Knex.Transaction,
  tenantId: string,
  filter: AuditFilter,
): Promise<AuditRow[]> {
  const query = db('audit_log').where('tenant_id', tenantId);
  if (filter.action !== undefined) query.where('action', filter.action);
  if (filter.entityType !== undefined) query.where('entity_type', filter.entityType);
  if (filter.entityId !== undefined) query.where('entity_id', filter.entityId);
  if (filter.actor !== undefined) query.where('actor', filter.actor);
  if (filter.since !== undefined) query.where('at', '>=', filter.since);
  if (filter.until !== undefined) query.where('at', '<', filter.until);
  if (filter.beforeId !== undefined) query.where('id', '<', filter.beforeId);
  const rows = await query.orderBy('id', 'desc').limit(filter.limit);
  return rows.map(toAuditRow);
}

function toAuditRow(r: Record<string, unknown>): AuditRow {
  return {
    id: r.id as number,
    tenantId: r.tenant_id as string | null,
    at: (r.at as Date).toISOString(),
    actor: r.actor as string,
    action: r.action as string,
    entityType: r.entity_type as string,
    entityId: r.entity_id as string | null,
    requestId: r.request_id as string | null,
    status: r.status as number | null,
    result: r.result as 'ok' | 'error',
    summary: r.summary,
    connector: r.connector as string | null,
    method: r.method as string | null,
    host: r.host as string | null,
    path: r.path as string | null,
    durationMs: r.duration_ms as number | null,
    seq: Number(r.seq),
    hash: (r.hash as Buffer).toString('hex'),
    erasedAt: r.erased_at ? (r.erased_at as Date).toISOString() : null,
  };
}

/**
 * The integration hub's sink: one `audit_log` row per external call. The hub has already
 * redacted the entry's headers, path and query.
 */
export function makeDbAuditSink(db: Knex): AuditSink {
  return {
    async record(entry: AuditEntry): Promise<void> {
      await recordAudit(db, fromHubEntry(entry));
    },
  };
}

function fromHubEntry(entry: AuditEntry): AuditRecord {
  const failed = entry.errorCode !== undefined || entry.status === undefined || entry.status >= 400;
  return {
    tenantId: entry.tenantId,
    at: new Date(entry.at),
    actor: entry.runId ? `run:${entry.runId}` : entry.jobId ? `job:${entry.jobId}` : 'engine',
    action: 'connector.call',
    entityType: 'connector_action',
    entityId: `${entry.connectorId}.${entry.actionId}`,
    status: entry.status ?? null,
    result: failed ? 'error' : 'ok',
    summary: {
      runId: entry.runId,
      stepId: entry.stepId,
      jobId: entry.jobId,
      attempt: entry.attempt,
      query: entry.query,
      errorCode: entry.errorCode,
      rateLimitWaitMs: entry.rateLimitWaitMs,
      requestBody: entry.requestBody,
      responseBody: entry.responseBody,
    },
    connector: entry.connectorId,
    method: entry.method,
    host: entry.host,
    path: entry.path,
    durationMs: entry.durationMs,
  };
}
