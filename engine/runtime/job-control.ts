/**
 * Typed-job control, as for runs: retry a job that failed for good (or was cancelled) with a
 * fresh attempt budget, or cancel a queued, waiting or running one.
 */
import type { Knex } from 'knex';
import { notifyCancel } from '../db/cancel-channel.ts';
import { cancelJobRow, type JobRow, lockJob, requeueJob } from '../db/jobs.ts';
import { enqueueJobAttempt, removeJobAttempt } from '../db/queue.ts';
import type { Core } from './core.ts';
import { RuntimeError } from './errors.ts';
import { failure, jobRetry } from './retry.ts';

/** The key a job's in-flight attempt watches for cancellation (runs use their bare id). */
export function jobCancelKey(jobId: string): string {
  return `job:${jobId}`;
}

async function locked(trx: Knex.Transaction, tenantId: string, jobId: string): Promise<JobRow> {
  const job = await lockJob(trx, tenantId, jobId);
  if (!job) throw new RuntimeError('not_found', `There is no job ${jobId}.`);
  return job;
}

export async function retryJob(core: Core, tenantId: string, jobId: string): Promise<JobRow> {
  return core.deps.db.transaction(async (trx) => {
    const job = await locked(trx, tenantId, jobId);
    if (job.status !== 'failed' && job.status !== 'cancelled') {
      throw new RuntimeError(
        'conflict',
        `Job ${jobId} is ${job.status}; only a failed or cancelled job can be retried.`,
      );
    }
    // Attempt numbers go on (the ledger keeps every one); the budget is the action's again.
    const budget = jobRetry(core.deps.connectors.action(job.uses)?.action.jobRetry).maxAttempts;
    const updated = await requeueJob(trx, job, job.attempts + budget);
    await enqueueJobAttempt(trx, updated);
    return updated;
  });
}

export async function cancelJob(core: Core, tenantId: string, jobId: string): Promise<JobRow> {
  const updated = await core.deps.db.transaction(async (trx) => {
    const job = await locked(trx, tenantId, jobId);
    if (job.status !== 'queued' && job.status !== 'running') {
      throw new RuntimeError('conflict', `Job ${jobId} is already ${job.status}.`);
    }
    const error = failure({
      kind: 'fatal',
      attempt: job.attempts,
      code: 'cancelled',
      message: 'the job was cancelled',
    });
    const row = await cancelJobRow(trx, job, error);
    await removeJobAttempt(trx, jobId);
    await notifyCancel(trx, jobCancelKey(jobId));
    return row;
  });
  core.cancels.abort(jobCancelKey(jobId));
  return updated;
}
