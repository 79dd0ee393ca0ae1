/**
 * The queue's jobs (graphile-worker), added with SQL inside the caller's transaction: a row
 * and the job that works on it commit together or not at all. A run's queue job is built
 * here and nowhere else, for one run (`enqueueRun`) or for a whole relation of runs in one
 * `add_jobs` call (`addRunJobsSql`).
 */
import type { Knex } from 'knex';

/** The queue task that advances a run; its job key is `run:<id>`. */
export const RUN_TASK = 'atlas.run';
/**
 * The queue task of one attempt of a typed job is `atlas.job:<TYPE>` (its job key `job:<id>`),
 * so that a worker may serve some job types only. `atlas.job` (any type) is what jobs were
 * queued as before; it is still served.
 */
export const JOB_TASK = 'atlas.job';
export const JOB_TASK_PREFIX = 'atlas.job:';

export function jobTask(type: string): string {
  return `${JOB_TASK_PREFIX}${type}`;
}
/**
 * How often the queue itself retries a job whose handler threw (the database blinked): the
 * engine schedules step and job retries itself, so this only bounds infrastructure failures.
 */
const QUEUE_MAX_ATTEMPTS = 25;

interface JobSpec {
  task: string;
  payload: unknown;
  runAt?: Date | undefined;
  /** De-duplicates: a second job with the same key replaces the waiting one. */
  jobKey?: string;
  maxAttempts?: number;
  queueName?: string;
}

type Db = Knex | Knex.Transaction;

async function addJob(db: Db, spec: JobSpec): Promise<void> {
  await db.raw(
    `select graphile_worker.add_job(
       identifier => ?, payload => ?::json, queue_name => ?, run_at => ?,
       max_attempts => ?, job_key => ?, job_key_mode => 'replace')`,
    [
      spec.task,
      JSON.stringify(spec.payload),
      spec.queueName ?? null,
      spec.runAt ?? null,
      spec.maxAttempts ?? QUEUE_MAX_ATTEMPTS,
      spec.jobKey ?? null,
    ],
  );
}

/** The run's queue job, due now or at `runAt`; it replaces a waiting one. */
export function enqueueRun(db: Db, run: { id: string; tenant_id: string }, runAt?: Date): Promise<void> {
  return addJob(db, {
    task: RUN_TASK,
    payload: { runId: run.id, tenantId: run.tenant_id },
    jobKey: `run:${run.id}`,
    runAt,
  });
}

/**
 * SQL adding the queue job of every run in `relation` (columns `id`, `tenant_id`, and the
 * queue priority in column `priority`: lower goes first) with one `add_jobs` call, so one
 * NOTIFY; the same job as `enqueueRun`'s. Binds no parameter.
 */
export function addRunJobsSql(relation: string, priority: string): string {
  return `select count(*) as n from graphile_worker.add_jobs(array(
    select row('${RUN_TASK}', json_build_object('runId', id, 'tenantId', tenant_id), null, null,
               ${QUEUE_MAX_ATTEMPTS}, 'run:' || id::text, ${priority}, null)::graphile_worker.job_spec
      from ${relation}))
   where exists (select 1 from ${relation})`;
}

/** Removes the run's waiting queue job (a cancel). */
export async function removeRunJob(db: Db, runId: string): Promise<void> {
  await db.raw('select graphile_worker.remove_job(?)', [`run:${runId}`]);
}

/** Removes the typed job's waiting queue job (a cancel). */
export async function removeJobAttempt(db: Db, jobId: string): Promise<void> {
  await db.raw('select graphile_worker.remove_job(?)', [`job:${jobId}`]);
}

/** The typed job's next attempt, due now or at `runAt`. */
export function enqueueJobAttempt(
  db: Db,
  job: { id: string; tenant_id: string; type: string },
  runAt?: Date,
): Promise<void> {
  return addJob(db, {
    task: jobTask(job.type),
    payload: { jobId: job.id, tenantId: job.tenant_id },
    jobKey: `job:${job.id}`,
    runAt,
  });
}

export interface TaskQueueStats {
  task: string;
  depth: number;
  /** Age of the oldest (seconds). */
  oldest: number;
}

/** The same per queue task: a task no running worker serves shows here, growing. */
export async function queueStatsByTask(db: Knex): Promise<TaskQueueStats[]> {
  const { rows } = await db.raw<{ rows: TaskQueueStats[] }>(
    `select task_identifier as task, count(*)::int as depth,
            extract(epoch from now() - min(run_at))::float8 as oldest
       from graphile_worker.jobs where locked_at is null and run_at <= now() and attempts < max_attempts
      group by task_identifier order by task_identifier`,
  );
  return rows;
}

/** Queue jobs due now that no worker has taken, and the age of the oldest (seconds). */
export async function queueStats(db: Knex): Promise<{ depth: number; oldest: number }> {
  const { rows } = await db.raw<{ rows: Array<{ depth: number; oldest: number | null }> }>(
    `select count(*)::int as depth, extract(epoch from now() - min(run_at))::float8 as oldest
       from graphile_worker.jobs where locked_at is null and run_at <= now() and attempts < max_attempts`,
  );
  return { depth: rows[0]?.depth ?? 0, oldest: rows[0]?.oldest ?? 0 };
}
