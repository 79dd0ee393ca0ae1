/**
 * Queries of `files`: tenants' stored files. A row is `pending` while its quota share is
 * reserved and its object written, then `ready`; a removed file keeps its row with
 * `deleted_at` set. Tenant reads and writes run inside `withTenant` (the caller's `trx`).
 */
import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

/** The columns of a file's public record. */
export interface FileRow {
  id: string;
  name: string;
  content_type: string;
  size: number | string;
  sha256: string;
  created_by: string;
  created_at: Date | string;
}

export interface NewFileRow {
  id: string;
  tenant_id: string;
  name: string;
  content_type: string;
  size: number;
  sha256: string;
  storage_key: string;
  created_by: string;
}

const COLUMNS = ['id', 'name', 'content_type', 'size', 'sha256', 'created_by', 'created_at'];

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The tenant's `settings.files` (its quota overrides), or undefined. */
export async function readFileSettings(db: Db, tenantId: string): Promise<unknown> {
  const row = await db('tenants')
    .where({ id: tenantId })
    .first<{ files?: unknown } | undefined>(db.raw(`settings -> 'files' as files`));
  return row?.files;
}

/** How many live files the tenant has (pending included) and their total size. */
export async function fileUsage(db: Db, tenantId: string): Promise<{ files: number; bytes: number }> {
  const row = await db('files')
    .where({ tenant_id: tenantId })
    .whereNull('deleted_at')
    .first(db.raw('count(*)::int as files'), db.raw('coalesce(sum(size), 0)::bigint as bytes'));
  return { files: Number(row?.files ?? 0), bytes: Number(row?.bytes ?? 0) };
}

/** Holds the tenant's upload lock until the transaction ends: one reservation at a time. */
export async function lockTenantFiles(trx: Knex.Transaction, tenantId: string): Promise<void> {
  await trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`atlas.files:${tenantId}`]);
}

/** Reserves a file's quota share: a `pending` row. */
export async function insertPendingFile(trx: Db, row: NewFileRow): Promise<void> {
  await trx('files').insert({ ...row, status: 'pending' });
}

/** Marks a pending file `ready`; returns its record. */
export async function markFileReady(trx: Db, tenantId: string, id: string): Promise<FileRow | undefined> {
  const [row] = await trx('files')
    .where({ id, tenant_id: tenantId })
    .update({ status: 'ready' })
    .returning(COLUMNS);
  return row as FileRow | undefined;
}

/** Deletes a file's row outright (a reservation that failed). */
export async function deleteFileRow(db: Db, tenantId: string, id: string): Promise<void> {
  await db('files').where({ id, tenant_id: tenantId }).delete();
}

/** A page of the tenant's ready files, newest first, by name prefix and after an id. */
export async function listReadyFiles(
  trx: Db,
  tenantId: string,
  query: { limit: number; prefix?: string | undefined; after?: string | undefined },
): Promise<FileRow[]> {
  const q = trx('files')
    .where({ tenant_id: tenantId, status: 'ready' })
    .whereNull('deleted_at')
    .orderBy('id', 'desc')
    .limit(query.limit)
    .select(COLUMNS);
  if (query.prefix) q.whereRaw('name like ? escape ?', [`${escapeLike(query.prefix)}%`, '\\']);
  if (query.after) q.where('id', '<', query.after);
  return q;
}

/** One ready, live file of the tenant. */
export async function getReadyFile(trx: Db, tenantId: string, id: string): Promise<FileRow | undefined> {
  return trx('files')
    .where({ tenant_id: tenantId, id, status: 'ready' })
    .whereNull('deleted_at')
    .first(COLUMNS);
}

/** One ready, live file by id alone, with its tenant (signed URLs name no tenant). */
export async function getReadyFileById(
  db: Db,
  id: string,
): Promise<(FileRow & { tenant_id: string }) | undefined> {
  return db('files')
    .where({ id, status: 'ready' })
    .whereNull('deleted_at')
    .first([...COLUMNS, 'tenant_id']);
}

/** Sets `deleted_at` on a ready, live file; says whether there was one. */
export async function softDeleteFile(trx: Db, tenantId: string, id: string): Promise<boolean> {
  const n = await trx('files')
    .where({ tenant_id: tenantId, id, status: 'ready' })
    .whereNull('deleted_at')
    .update({ deleted_at: trx.fn.now() });
  return n > 0;
}

/** Deletes `pending` rows created before `cutoff`; returns how many went. */
export async function deleteStalePending(db: Db, cutoff: Date): Promise<number> {
  return db('files').where({ status: 'pending' }).where('created_at', '<', cutoff).delete();
}

/** A file's status and creation time whatever its state, unless deleted. */
export async function liveFileState(
  db: Db,
  tenantId: string,
  id: string,
): Promise<{ status: string; created_at: Date } | undefined> {
  return db('files').where({ id, tenant_id: tenantId }).whereNull('deleted_at').first('status', 'created_at');
}
