/**
 * Queries of `workflow_runs`: reading runs, and the changes of a run's status outside the
 * checkpoints (recovery, cancellation, ending in a transaction). Claims and leases are in
 * `run-claims.ts`, new runs in `run-inserts.ts`. Every query names its tenant.
 */
import type { Knex } from 'knex';
import { pooledQuery } from './knex.ts';
import { readAsTenant, type TenantReadValue } from './rls.ts';
import type { SignalRow } from './signals.ts';
import type { StepRunRow } from './step-runs.ts';

export type RunStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';

export interface RunRow {
  id: string;
  tenant_id: string;
  workflow_id: string;
  manifest_hash: string;
  status: RunStatus;
  input: unknown;
  trigger: unknown;
  idempotency_key: string | null;
  concurrency_key: string | null;
  concurrency_limit: number | null;
  run_attempt: number;
  error: unknown;
  /** The workflow's `output:`, rendered when the run succeeded. */
  output?: unknown;
  parent_run_id: string | null;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  /** Incremented by every claim; checkpoints and ends carry it (fencing). */
  lease_epoch: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

type Db = Knex | Knex.Transaction;

export async function findRunByKey(
  db: Db,
  tenantId: string,
  workflowId: string,
  key: string,
): Promise<RunRow | undefined> {
  return db<RunRow>('workflow_runs')
    .where({ tenant_id: tenantId, workflow_id: workflowId, idempotency_key: key })
    .first();
}

/** The run, locked until the transaction ends. */
export async function lockRun(
  trx: Knex.Transaction,
  tenantId: string,
  runId: string,
): Promise<RunRow | undefined> {
  return trx<RunRow>('workflow_runs').where({ tenant_id: tenantId, id: runId }).forUpdate().first();
}

/** A run's sub-workflow links, both ways (`run_calls`). */
export interface RunCalls {
  calledBy: { runId: string; stepId: string } | null;
  calls: Array<{ runId: string; workflowId: string; stepId: string; status: RunStatus }>;
}

interface RawView {
  run: Record<string, unknown> | null;
  attempts: Array<Record<string, unknown>>;
  called_by: RunCalls['calledBy'];
  calls: RunCalls['calls'];
  signals: Array<Record<string, unknown>>;
}

/** JSON carries timestamps as text; the rows' readers expect Dates (or null). */
function withDates<T>(row: Record<string, unknown>, columns: readonly string[]): T {
  const out: Record<string, unknown> = { ...row };
  for (const c of columns) out[c] = typeof row[c] === 'string' ? new Date(row[c]) : null;
  return out as T;
}

/**
 * A run with all its step attempts (oldest first), its sub-workflow links and its delivered
 * signals, read as the tenant (row-level security applies) in one round trip: the
 * `run_view` function (migration 330), whose plans PostgreSQL keeps per connection.
 */
export async function getRunWithAttempts(
  db: Knex,
  tenantId: string,
  runId: string,
): Promise<
  | { run: RunRow; attempts: StepRunRow[]; calls: RunCalls; signals: Array<SignalRow & { step_id: string }> }
  | undefined
> {
  if (tenantId === '') throw new Error('getRunWithAttempts: the tenant id is empty');
  const rows = await pooledQuery<{ view: RawView | null }>(db, 'select run_view($1, $2) as view', [
    tenantId,
    runId,
  ]);
  const view = rows[0]?.view;
  if (!view?.run) return undefined;
  return {
    run: withDates<RunRow>(view.run, [
      'lease_expires_at',
      'created_at',
      'started_at',
      'finished_at',
      'updated_at',
    ]),
    calls: { calledBy: view.called_by, calls: view.calls },
    attempts: view.attempts.map((a) => withDates<StepRunRow>(a, ['started_at', 'finished_at', 'retry_at'])),
    signals: view.signals.map((g) => withDates<SignalRow & { step_id: string }>(g, ['created_at'])),
  };
}

export interface RunFilter {
  workflowId?: string | undefined;
  status?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  limit: number;
  /** Keyset cursor: runs created before this (created_at, id). */
  before?: { createdAt: Date; id: string } | undefined;
}

/** A page of the tenant's runs, newest first, read as the tenant in one round trip. */
export async function listRuns(db: Knex, tenantId: string, f: RunFilter): Promise<RunRow[]> {
  const q = db<RunRow>('workflow_runs').where({ tenant_id: tenantId });
  if (f.workflowId) q.andWhere('workflow_id', f.workflowId);
  if (f.status) q.andWhere('status', f.status);
  if (f.since) q.andWhere('created_at', '>=', f.since);
  if (f.until) q.andWhere('created_at', '<', f.until);
  if (f.before) {
    q.andWhereRaw('(created_at, id) < (?, ?)', [f.before.createdAt, f.before.id]);
  }
  const { sql, bindings } = q
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(f.limit)
    .toSQL()
    .toNative();
  const [rows] = await readAsTenant(db, tenantId, [{ sql, values: bindings as TenantReadValue[] }]);
  return rows as RunRow[];
}

/**
 * Queues a finished run again: from its failed steps (`retry`), or from the beginning as
 * its next run attempt (`restart`).
 */
export async function requeueRun(
  trx: Knex.Transaction,
  run: RunRow,
  mode: 'retry' | 'restart',
): Promise<RunRow> {
  const [updated] = (await trx('workflow_runs')
    .where({ id: run.id, tenant_id: run.tenant_id })
    .update({
      status: 'queued',
      error: null,
      output: null,
      finished_at: null,
      updated_at: trx.fn.now(),
      ...(mode === 'restart' ? { run_attempt: run.run_attempt + 1, started_at: null } : {}),
    })
    .returning('*')) as RunRow[];
  return updated!;
}

/** Marks the run cancelled (its waiting queue job and in-flight attempts are the caller's). */
export async function cancelRunRow(trx: Knex.Transaction, run: RunRow, error: unknown): Promise<RunRow> {
  const [row] = (await trx('workflow_runs')
    .where({ id: run.id, tenant_id: run.tenant_id })
    .update({
      status: 'cancelled',
      error: JSON.stringify(error),
      finished_at: trx.fn.now(),
      updated_at: trx.fn.now(),
    })
    .returning('*')) as RunRow[];
  return row!;
}

/**
 * Parks a running run that only waits (a durable timer or a signal): status `waiting`, lease
 * freed; its queue job (added by the caller) resumes it. False when it was no longer running.
 */
export async function parkRun(
  trx: Knex.Transaction,
  run: { id: string; tenant_id: string; lease_epoch: number },
): Promise<boolean> {
  const updated = await trx('workflow_runs')
    .where({ id: run.id, tenant_id: run.tenant_id, status: 'running', lease_epoch: run.lease_epoch })
    .update({ status: 'waiting', lease_owner: null, lease_expires_at: null, updated_at: trx.fn.now() });
  return updated > 0;
}

/**
 * Ends a running run and frees its lease; false when it was no longer running (a cancel) or
 * another claim took it since (its lease epoch moved on).
 */
export async function finishRun(
  trx: Knex.Transaction,
  run: { id: string; tenant_id: string; lease_epoch: number },
  status: 'succeeded' | 'failed',
  error: unknown,
  output?: unknown,
): Promise<boolean> {
  const updated = await trx('workflow_runs')
    .where({ id: run.id, tenant_id: run.tenant_id, status: 'running', lease_epoch: run.lease_epoch })
    .update({
      status,
      error: error === null ? null : JSON.stringify(error),
      output: output === undefined ? null : JSON.stringify(output),
      finished_at: trx.fn.now(),
      updated_at: trx.fn.now(),
      lease_owner: null,
      lease_expires_at: null,
    });
  return updated > 0;
}

/** The oldest run waiting for a slot in this run's concurrency group. */
export async function nextQueuedInGroup(
  trx: Knex.Transaction,
  run: RunRow,
): Promise<{ id: string; tenant_id: string } | undefined> {
  return trx<RunRow>('workflow_runs')
    .where({
      tenant_id: run.tenant_id,
      workflow_id: run.workflow_id,
      concurrency_key: run.concurrency_key,
      status: 'queued',
    })
    .orderBy('created_at')
    .first('id', 'tenant_id');
}

/** Where a run is: its tenant, by id, or the newest run of a tenant (`last`). */
export async function locateRun(
  db: Db,
  which: { id: string } | { newestOf: string },
): Promise<{ id: string; tenant_id: string } | undefined> {
  const runs = db('workflow_runs');
  const query =
    'id' in which
      ? runs.where({ id: which.id })
      : runs.where({ tenant_id: which.newestOf }).orderBy([
          { column: 'created_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ]);
  return query.first<{ id: string; tenant_id: string } | undefined>('id', 'tenant_id');
}

/** A position in the stream of run changes: `updated_at` in microseconds, then the id. */
export interface RunChangePosition {
  us: bigint;
  id: string;
}

/** The database's clock, in microseconds since the epoch (the change feed's time base). */
export async function dbNowMicros(db: Db): Promise<bigint> {
  const { rows } = await db.raw<{ rows: Array<{ us: string }> }>(
    'select (extract(epoch from now()) * 1000000)::bigint::text as us',
  );
  return BigInt(rows[0]!.us);
}

/** The tenant's runs changed after `from`, oldest change first, one more than `limit`. */
export async function runChangesSince(
  db: Db,
  tenantId: string,
  from: RunChangePosition,
  limit: number,
): Promise<Array<RunRow & { updated_us: string }>> {
  return (await db('workflow_runs')
    .where({ tenant_id: tenantId })
    .andWhereRaw("(updated_at, id::text) > (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?)", [
      from.us.toString(),
      from.id,
    ])
    .orderByRaw('updated_at, id::text')
    .limit(limit + 1)
    .select('*', db.raw('(extract(epoch from updated_at) * 1000000)::bigint::text as updated_us'))) as Array<
    RunRow & { updated_us: string }
  >;
}
