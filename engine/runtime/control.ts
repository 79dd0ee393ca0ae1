/**
 * Recovery: retry a failed run from its failed step (earlier outputs kept), restart it from
 * the beginning as a new run attempt, or cancel a queued or running run.
 */
import type { Knex } from 'knex';
import { notifyCancel } from '../db/cancel-channel.ts';
import { enqueueRun, removeRunJob } from '../db/queue.ts';
import { cancelRunRow, lockRun, type RunRow, requeueRun } from '../db/runs.ts';
import { cancelWaitingSteps, makeUnfinishedStepsDue } from '../db/step-runs.ts';
import { cancelChildren } from './calls.ts';
import type { Core } from './core.ts';
import { RuntimeError } from './errors.ts';
import { cancelled } from './retry.ts';

async function locked(trx: Knex.Transaction, tenantId: string, runId: string): Promise<RunRow> {
  const run = await lockRun(trx, tenantId, runId);
  if (!run) throw new RuntimeError('not_found', `There is no run ${runId}.`);
  return run;
}

/** Runs the failed (or cancelled) steps again; steps that succeeded keep their outputs. */
export async function retryRun(core: Core, tenantId: string, runId: string): Promise<RunRow> {
  return core.deps.db.transaction(async (trx) => {
    const run = await locked(trx, tenantId, runId);
    if (run.status !== 'failed' && run.status !== 'cancelled') {
      throw new RuntimeError(
        'conflict',
        `Run ${runId} is ${run.status}; only a failed or cancelled run can be retried.`,
      );
    }
    // The latest attempt of each unfinished step becomes due again now.
    await makeUnfinishedStepsDue(trx, run);
    const updated = await requeueRun(trx, run, 'retry');
    await enqueueRun(trx, run);
    return updated;
  });
}

/** Runs the workflow again from its first step, as a new attempt of the same run. */
export async function restartRun(core: Core, tenantId: string, runId: string): Promise<RunRow> {
  return core.deps.db.transaction(async (trx) => {
    const run = await locked(trx, tenantId, runId);
    if (run.status === 'queued' || run.status === 'running' || run.status === 'waiting') {
      throw new RuntimeError('conflict', `Run ${runId} is ${run.status}; cancel it before restarting it.`);
    }
    const updated = await requeueRun(trx, run, 'restart');
    await enqueueRun(trx, run);
    return updated;
  });
}

/**
 * Cancels a queued or running run. A queued run's job is removed; a running run's
 * in-flight attempts see their AbortSignal fire (NOTIFY to every worker). Its children
 * (sub-workflows still running) are cancelled after it, each in its own transaction.
 */
export async function cancelRun(core: Core, tenantId: string, runId: string): Promise<RunRow> {
  const updated = await core.deps.db.transaction(async (trx) => {
    const run = await locked(trx, tenantId, runId);
    if (run.status !== 'queued' && run.status !== 'running' && run.status !== 'waiting') {
      throw new RuntimeError('conflict', `Run ${runId} is already ${run.status}.`);
    }
    const row = await cancelRunRow(trx, run, { code: 'cancelled', message: 'the run was cancelled' });
    await cancelWaitingSteps(trx, run, cancelled(1));
    await removeRunJob(trx, runId);
    await notifyCancel(trx, runId);
    await core.finishing.afterEnd(trx, row);
    return row;
  });
  core.cancels.abort(runId);
  await cancelChildren(core, tenantId, runId, cancelRun);
  return updated;
}
