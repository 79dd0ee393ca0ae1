/**
 * Queries of `step_runs`, the attempt ledger: one row per attempt of a workflow step or of a
 * typed job, and the traces of an action's sub-steps. The checkpoints of workflow steps are
 * group-committed by `ledger-writer.ts`. Every query names its tenant.
 */
import type { Knex } from 'knex';

export type StepStatus = 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export interface StepRunRow {
  id: number;
  tenant_id: string;
  run_id: string | null;
  job_id: string | null;
  step_id: string;
  uses: string | null;
  run_attempt: number;
  attempt: number;
  max_attempts: number;
  status: StepStatus;
  input: unknown;
  output: unknown;
  error: unknown;
  skip_reason: string | null;
  retry_at: Date | null;
  worker: string | null;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
}

type Db = Knex | Knex.Transaction;
const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));

/** The latest attempt of every step in the run's current attempt. */
export async function latestStepRuns(
  db: Db,
  run: { id: string; tenant_id: string; run_attempt: number },
): Promise<StepRunRow[]> {
  return db<StepRunRow>('step_runs')
    .distinctOn('step_id')
    .where({ tenant_id: run.tenant_id, run_id: run.id, run_attempt: run.run_attempt })
    .orderBy([{ column: 'step_id' }, { column: 'attempt', order: 'desc' }]);
}

/** Makes the latest attempt of each unfinished step of the run's current attempt due now. */
export async function makeUnfinishedStepsDue(
  db: Db,
  run: { id: string; tenant_id: string; run_attempt: number },
): Promise<void> {
  await db.raw(
    `update step_runs s set retry_at = now()
      where s.id in (
        select distinct on (step_id) id from step_runs
         where tenant_id = ? and run_id = ? and run_attempt = ?
         order by step_id, attempt desc)
        and s.status in ('failed', 'cancelled', 'running')`,
    [run.tenant_id, run.id, run.run_attempt],
  );
}

/** Every attempt and trace of a job, oldest first. */
export async function jobStepRuns(db: Db, tenantId: string, jobId: string): Promise<StepRunRow[]> {
  return db<StepRunRow>('step_runs').where({ tenant_id: tenantId, job_id: jobId }).orderBy('id');
}

/** Starts an attempt of a typed job (status `running`); returns its ledger id. */
export async function startJobAttempt(
  db: Db,
  a: {
    tenantId: string;
    jobId: string;
    stepId: string;
    uses: string;
    attempt: number;
    maxAttempts: number;
    input: unknown;
    worker: string;
  },
): Promise<number> {
  const [row] = await db('step_runs')
    .insert({
      tenant_id: a.tenantId,
      job_id: a.jobId,
      step_id: a.stepId,
      uses: a.uses,
      attempt: a.attempt,
      max_attempts: a.maxAttempts,
      status: 'running',
      input: json(a.input),
      worker: a.worker,
    })
    .returning('id');
  return row.id as number;
}

/** Closes an attempt of a typed job with its outcome. */
export async function finishJobAttempt(
  db: Db,
  a: {
    id: number;
    tenantId: string;
    status: 'succeeded' | 'failed';
    output?: unknown;
    error?: unknown;
    retryAt: Date | undefined;
    durationMs: number;
  },
): Promise<void> {
  await db('step_runs')
    .where({ id: a.id, tenant_id: a.tenantId })
    .update({
      status: a.status,
      output: json(a.output),
      error: json(a.error),
      retry_at: a.retryAt ?? null,
      finished_at: db.fn.now(),
      duration_ms: a.durationMs,
    });
}

/** Closes the job's attempts still `running` (their worker stopped) with `error`. */
export async function failRunningJobAttempts(
  db: Db,
  job: { id: string; tenant_id: string },
  error: unknown,
): Promise<void> {
  await db('step_runs')
    .where({ tenant_id: job.tenant_id, job_id: job.id, status: 'running' })
    .update({ status: 'failed', finished_at: db.fn.now(), error: json(error) });
}

/** A finished sub-step of an action: a row of its job, or of its run's current attempt. */
export interface TraceRow {
  tenantId: string;
  owner: { job_id: string } | { run_id: string; run_attempt: number };
  stepId: string;
  uses: string | null;
  attempt: number;
  maxAttempts: number;
  status: string;
  input: unknown;
  output: unknown;
  error: unknown;
  worker: string;
  durationMs: number | undefined;
}

export async function insertTrace(db: Db, t: TraceRow): Promise<void> {
  await db('step_runs').insert({
    tenant_id: t.tenantId,
    ...t.owner,
    step_id: t.stepId,
    uses: t.uses,
    attempt: t.attempt,
    max_attempts: t.maxAttempts,
    status: t.status,
    input: json(t.input),
    output: json(t.output),
    error: json(t.error),
    worker: t.worker,
    started_at: new Date(Date.now() - (t.durationMs ?? 0)),
    finished_at: db.fn.now(),
    duration_ms: t.durationMs ?? null,
  });
}
