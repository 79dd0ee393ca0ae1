/**
 * Sub-workflow calls: `run_calls` links a child run to the run and step that started it, and
 * the caller's `waiting` attempt of a `workflow.run` step is ended by the child's end. Every
 * query names its tenant.
 */
import type { Knex } from 'knex';
import type { StepRunRow } from './step-runs.ts';

type Db = Knex | Knex.Transaction;

export interface CallInsert {
  runId: string;
  tenantId: string;
  callerRunId: string;
  callerStepId: string;
  depth: number;
  waits: boolean;
}

export async function insertCall(trx: Knex.Transaction, c: CallInsert): Promise<void> {
  await trx('run_calls')
    .insert({
      run_id: c.runId,
      tenant_id: c.tenantId,
      caller_run_id: c.callerRunId,
      caller_step_id: c.callerStepId,
      depth: c.depth,
      waits: c.waits,
    })
    .onConflict('run_id')
    .ignore();
}

/** The step attempt a caller records when it starts a child: `waiting` for it, or done. */
export async function insertCallAttempt(
  trx: Knex.Transaction,
  a: {
    tenantId: string;
    runId: string;
    runAttempt: number;
    worker: string;
    stepId: string;
    attempt: number;
    maxAttempts: number;
    input: unknown;
    output: unknown;
    waits: boolean;
  },
): Promise<number> {
  const [row] = await trx('step_runs')
    .insert({
      tenant_id: a.tenantId,
      run_id: a.runId,
      run_attempt: a.runAttempt,
      worker: a.worker,
      step_id: a.stepId,
      uses: 'workflow.run',
      attempt: a.attempt,
      max_attempts: a.maxAttempts,
      status: a.waits ? 'waiting' : 'succeeded',
      input: JSON.stringify(a.input ?? null),
      output: JSON.stringify(a.output ?? null),
      ...(a.waits ? {} : { finished_at: trx.fn.now(), duration_ms: 0 }),
    })
    .returning('id');
  return row.id as number;
}

/**
 * Ends the caller's attempt waiting for this child (the latest `waiting` attempt of the step
 * whose input names the child); false when none waits any more (cancelled, say).
 */
export async function endCallWait(
  trx: Knex.Transaction,
  call: { tenantId: string; callerRunId: string; callerStepId: string; childRunId: string },
  ending: { status: 'succeeded' | 'failed'; output?: unknown; error?: unknown },
): Promise<boolean> {
  const updated = await trx<StepRunRow>('step_runs')
    .where({
      tenant_id: call.tenantId,
      run_id: call.callerRunId,
      step_id: call.callerStepId,
      status: 'waiting',
      uses: 'workflow.run',
    })
    .whereRaw("output->>'runId' = ?", [call.childRunId])
    .update({
      status: ending.status,
      output: JSON.stringify(ending.output ?? null),
      error: ending.error === undefined ? null : JSON.stringify(ending.error),
      retry_at: null,
      finished_at: trx.fn.now(),
      duration_ms: trx.raw('(extract(epoch from now() - started_at) * 1000)::int'),
    });
  return updated > 0;
}

/** The children of a run that have not ended yet. */
export async function activeChildren(db: Db, tenantId: string, runId: string): Promise<string[]> {
  const rows = await db('run_calls as c')
    .join('workflow_runs as r', function () {
      this.on('r.id', '=', 'c.run_id').andOn('r.tenant_id', '=', 'c.tenant_id');
    })
    .where({ 'c.tenant_id': tenantId, 'c.caller_run_id': runId })
    .whereIn('r.status', ['queued', 'running', 'waiting'])
    .select('c.run_id');
  return rows.map((r: { run_id: string }) => r.run_id);
}
