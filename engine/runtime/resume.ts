/**
 * Resuming a run: the step states its ledger holds. An attempt a stopped worker left
 * `running` is recorded as a `worker_lost` failure, retried at once if the step's policy
 * allows another attempt.
 */
import type { FinishedAttempt } from '../db/ledger-writer.ts';
import type { StepRunRow } from '../db/step-runs.ts';
import type { Workflow } from '../manifest/types.gen.ts';
import type { StepState } from './plan.ts';
import { decideRetry, stepRetry, workerLost } from './retry.ts';

export function resumeStates(
  rows: StepRunRow[],
  workflow: Workflow,
  now: Date,
  random: () => number,
): { states: Map<string, StepState>; lost: FinishedAttempt[] } {
  const states = new Map<string, StepState>();
  const lost: FinishedAttempt[] = [];
  for (const row of rows) {
    const state: StepState = {
      stepId: row.step_id,
      status: row.status,
      attempt: row.attempt,
      output: row.output,
      error: row.error,
      retryAt: row.retry_at ?? undefined,
    };
    if (row.status === 'running') {
      const step = workflow.steps.find((s) => s.id === row.step_id);
      if (!step) throw new Error(`workflow ${workflow.id} has no step "${row.step_id}"`);
      const error = workerLost(row.attempt);
      const decision = decideRetry(stepRetry(step, workflow.defaults), error, random);
      state.status = 'failed';
      state.error = error;
      state.retryAt = decision.retry ? now : undefined;
      lost.push({ id: row.id, status: 'failed', error, retryAt: state.retryAt, durationMs: 0 });
    }
    states.set(row.step_id, state);
  }
  return { states, lost };
}
