/**
 * Recovery: retry a failed run from its failed step (earlier outputs kept), restart it from
 * the beginning as a new run attempt, or cancel a queued or running run.
 */
import type { Knex } from 'knex';
import type { RunRow } from '../db/runs.ts';
import { addJob } from '../queue/add-job.ts';
import type { Core } from './core.ts';
import { RuntimeError } from './errors.ts';
import { CANCEL_CHANNEL } from './liveness.ts';
import { RUN_TASK } from './trigger.ts';

async function lockRun(trx: Knex.Transaction, tenantId: string, runId: string): Promise<RunRow> {
  const run = await trx<RunRow>('workflow_runs')
    .where({ tenant_id: tenantId, id: runId })
    .forUpdate()
    .first();
  if (!run) throw new RuntimeError('not_found', `There is no run ${runId}.`);
  return run;
}

function requeue(trx: Knex.Transaction, run: RunRow): Promise<void> {
  return addJob(trx, {
    task: RUN_TASK,
    payload: { runId: run.id, tenantId: run.tenant_id },
    jobKey: `run:${run.id}`,
  });
}

const reopen = (trx: Knex.Transaction) => ({
  status: 'queued',
  error: null,
  output: null,
  finished_at: null,
  updated_at: trx.fn.now(),
});

/** Runs the failed (or cancelled) steps again; steps that succeeded keep their outputs. */
export async function retryRun(core: Core, tenantId: string, runId: string): Promise<RunRow> {
  return core.deps.db.transaction(async (trx) => {
    const run = await lockRun(trx, tenantId, runId);
    if (run.status !== 'failed' && run.status !== 'cancelled') {
      throw new RuntimeError(
        'conflict',
        `Run ${runId} is ${run.status}; only a failed or cancelled run can be retried.`,
      );
    }
    // The latest attempt of each unfinished step becomes due again now.
    await trx.raw(
      `update step_runs s set retry_at = now()
        where s.id in (
          select distinct on (step_id) id from step_runs
           where tenant_id = ? and run_id = ? and run_attempt = ?
           order by step_id, attempt desc)
          and s.status in ('failed', 'cancelled', 'running')`,
      [tenantId, runId, run.run_attempt],
    );
    const [updated] = (await trx('workflow_runs')
      .where({ id: runId })
      .update(reopen(trx))
      .returning('*')) as RunRow[];
    await requeue(trx, run);
    return updated!;
  });
}

/** Runs the workflow again from its first step, as a new attempt of the same run. */
export async function restartRun(core: Core, tenantId: string, runId: string): Promise<RunRow> {
  return core.deps.db.transaction(async (trx) => {
    const run = await lockRun(trx, tenantId, runId);
    if (run.status === 'queued' || run.status === 'running') {
      throw new RuntimeError('conflict', `Run ${runId} is ${run.status}; cancel it before restarting it.`);
    }
    const [updated] = (await trx('workflow_runs')
      .where({ id: runId })
      .update({ ...reopen(trx), run_attempt: run.run_attempt + 1, started_at: null })
      .returning('*')) as RunRow[];
    await requeue(trx, run);
    return updated!;
  });
}

/**
 * Cancels a queued or running run. A queued run's job is removed; a running run's
 * in-flight attempts see their AbortSignal fire (NOTIFY to every worker).
 */
export async function cancelRun(core: Core, tenantId: string, runId: string): Promise<RunRow> {
  const updated = await core.deps.db.transaction(async (trx) => {
    const run = await lockRun(trx, tenantId, runId);
    if (run.status !== 'queued' && run.status !== 'running') {
      throw new RuntimeError('conflict', `Run ${runId} is already ${run.status}.`);
    }
    const [row] = (await trx('workflow_runs')
      .where({ id: runId })
      .update({
        status: 'cancelled',
        error: JSON.stringify({ code: 'cancelled', message: 'the run was cancelled' }),
        finished_at: trx.fn.now(),
        updated_at: trx.fn.now(),
      })
      .returning('*')) as RunRow[];
    await trx.raw('select graphile_worker.remove_job(?)', [`run:${runId}`]);
    await trx.raw('select pg_notify(?, ?)', [CANCEL_CHANNEL, runId]);
    await core.afterCancel(trx, row!);
    return row!;
  });
  core.abort(runId);
  return updated;
}
