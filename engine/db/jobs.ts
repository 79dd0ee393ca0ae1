/** Queries of `jobs`, the typed jobs' ledger rows. Every query names its tenant. */
import type { Knex } from 'knex';
import type { JobType } from '../connector-sdk/index.ts';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobRow {
  id: string;
  tenant_id: string;
  type: JobType;
  uses: string;
  status: JobStatus;
  payload: unknown;
  attempts: number;
  max_attempts: number;
  last_error: unknown;
  result: unknown;
  idempotency_key: string | null;
  actor: string | null;
  run_at: Date;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

type Db = Knex | Knex.Transaction;

export interface JobInsert {
  id: string;
  tenant_id: string;
  type: string;
  uses: string;
  payload: unknown;
  max_attempts: number;
  idempotency_key: string | null;
  actor: string | null;
}

/** Inserts a queued job; undefined when its idempotency key is taken (see `findJobByKey`). */
export async function insertJob(db: Db, job: JobInsert): Promise<JobRow | undefined> {
  const [inserted] = (await db('jobs')
    .insert({ ...job, status: 'queued', payload: JSON.stringify(job.payload) })
    .onConflict(db.raw('(tenant_id, type, idempotency_key) where idempotency_key is not null'))
    .ignore()
    .returning('*')) as JobRow[];
  return inserted;
}

export async function findJobByKey(
  db: Db,
  tenantId: string,
  type: string,
  key: string,
): Promise<JobRow | undefined> {
  return (await db('jobs').where({ tenant_id: tenantId, type, idempotency_key: key }).first()) as
    | JobRow
    | undefined;
}

export async function getJob(db: Db, tenantId: string, jobId: string): Promise<JobRow | undefined> {
  return (await db('jobs').where({ tenant_id: tenantId, id: jobId }).first()) as JobRow | undefined;
}

/** Starts the job's next attempt (counted); undefined when it is no longer queued or running. */
export async function claimJob(db: Db, tenantId: string, jobId: string): Promise<JobRow | undefined> {
  const [job] = (await db('jobs')
    .where({ id: jobId, tenant_id: tenantId })
    .whereIn('status', ['queued', 'running'])
    .update({
      status: 'running',
      attempts: db.raw('attempts + 1'),
      started_at: db.raw('coalesce(started_at, now())'),
    })
    .returning('*')) as JobRow[];
  return job;
}

/**
 * Records the outcome of the job's running attempt: succeeded, failed for good, or queued
 * again for `retryAt`.
 */
export async function settleJob(
  db: Db,
  job: { id: string; tenant_id: string },
  outcome: { ok: true; output: unknown } | { ok: false; error: unknown; retryAt: Date | undefined },
): Promise<void> {
  const retry = outcome.ok ? undefined : outcome.retryAt;
  await db('jobs')
    .where({ id: job.id, tenant_id: job.tenant_id, status: 'running' })
    .update({
      status: outcome.ok ? 'succeeded' : retry ? 'queued' : 'failed',
      result: outcome.ok ? JSON.stringify(outcome.output) : null,
      last_error: outcome.ok ? null : JSON.stringify(outcome.error),
      run_at: retry ?? db.fn.now(),
      finished_at: outcome.ok || !retry ? db.fn.now() : null,
      updated_at: db.fn.now(),
    });
}

export interface JobPageFilter {
  type?: string;
  status?: string;
  /** Jobs created before this position (newest first). */
  before?: { at: Date; id: string };
  limit: number;
}

/** A page of the tenant's jobs, newest first: one row more than `limit` says there is more. */
export async function listJobs(db: Db, tenantId: string, f: JobPageFilter): Promise<JobRow[]> {
  const q = db<JobRow>('jobs').where({ tenant_id: tenantId });
  if (f.type) q.andWhere('type', f.type);
  if (f.status) q.andWhere('status', f.status);
  if (f.before) q.andWhereRaw('(created_at, id) < (?, ?)', [f.before.at, f.before.id]);
  return q
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(f.limit + 1) as Promise<JobRow[]>;
}

/** A job's status and outcome, without its payload (which may be large). */
export async function jobOutcome(
  db: Db,
  tenantId: string,
  jobId: string,
): Promise<Pick<JobRow, 'status' | 'result' | 'last_error'> | undefined> {
  return db<JobRow>('jobs').where({ tenant_id: tenantId, id: jobId }).first('status', 'result', 'last_error');
}

/** The job, locked for a change of state (retry, cancel) in `trx`. */
export async function lockJob(
  trx: Knex.Transaction,
  tenantId: string,
  jobId: string,
): Promise<JobRow | undefined> {
  return (await trx('jobs').where({ tenant_id: tenantId, id: jobId }).forUpdate().first()) as
    | JobRow
    | undefined;
}

/** A failed or cancelled job queued again now, allowed `maxAttempts` in all. */
export async function requeueJob(trx: Knex.Transaction, job: JobRow, maxAttempts: number): Promise<JobRow> {
  const [row] = (await trx('jobs')
    .where({ id: job.id, tenant_id: job.tenant_id })
    .update({
      status: 'queued',
      max_attempts: maxAttempts,
      run_at: trx.fn.now(),
      finished_at: null,
      updated_at: trx.fn.now(),
    })
    .returning('*')) as JobRow[];
  return row!;
}

/** Ends a queued or running job as cancelled; a running attempt's outcome no longer settles it. */
export async function cancelJobRow(trx: Knex.Transaction, job: JobRow, error: unknown): Promise<JobRow> {
  const [row] = (await trx('jobs')
    .where({ id: job.id, tenant_id: job.tenant_id })
    .update({
      status: 'cancelled',
      last_error: JSON.stringify(error),
      finished_at: trx.fn.now(),
      updated_at: trx.fn.now(),
    })
    .returning('*')) as JobRow[];
  return row!;
}

/** Which tenant a job belongs to, by its id alone (the CLI, as an operator). */
export async function locateJob(
  db: Db,
  jobId: string,
): Promise<{ id: string; tenant_id: string } | undefined> {
  return (await db('jobs').where({ id: jobId }).first('id', 'tenant_id')) as
    | { id: string; tenant_id: string }
    | undefined;
}
