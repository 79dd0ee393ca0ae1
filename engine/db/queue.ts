/**
 * Enqueues graphile-worker jobs with SQL, inside the caller's transaction: a run row and
 * its first job commit together or not at all.
 */
import type { Knex } from 'knex';

export interface JobSpec {
  task: string;
  payload: unknown;
  runAt?: Date;
  /** De-duplicates: a second job with the same key replaces the waiting one. */
  jobKey?: string;
  maxAttempts?: number;
  queueName?: string;
}

export async function addJob(db: Knex | Knex.Transaction, spec: JobSpec): Promise<void> {
  await db.raw(
    `select graphile_worker.add_job(
       identifier => ?, payload => ?::json, queue_name => ?, run_at => ?,
       max_attempts => ?, job_key => ?, job_key_mode => 'replace')`,
    [
      spec.task,
      JSON.stringify(spec.payload),
      spec.queueName ?? null,
      spec.runAt ?? null,
      spec.maxAttempts ?? 25,
      spec.jobKey ?? null,
    ],
  );
}
