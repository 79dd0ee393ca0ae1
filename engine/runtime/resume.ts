/**
 * Resuming a run: the step states its ledger holds. An attempt a stopped worker left
 * `running` is recorded as a `worker_lost` failure, retried at once if the step's policy
 * allows another attempt.
 */
import type { FinishedAttempt } from '../db/ledger-writer.ts';
import type { StepRunRow } from '../db/step-runs.ts';
import type { Workflow } from '../manifest/types.gen.ts';
import { parseItemId } from './loop.ts';
import type { StepState } from './plan.ts';
import { decideRetry, stepRetry, workerLost } from './retry.ts';

export interface ResumedLoop {
  /** The ledger id and input of the step's own row, while its items run. */
  row?: { id: number; input: unknown };
  /** The latest attempt of each item. */
  items: Map<number, StepState>;
}

export function resumeStates(
  rows: StepRunRow[],
  workflow: Workflow,
  now: Date,
  random: () => number,
): { states: Map<string, StepState>; lost: FinishedAttempt[]; loops: Map<string, ResumedLoop> } {
  const states = new Map<string, StepState>();
  const lost: FinishedAttempt[] = [];
  const loops = new Map<string, ResumedLoop>();
  const loopOf = (id: string) => {
    if (!loops.has(id)) loops.set(id, { items: new Map() });
    return loops.get(id)!;
  };
  for (const row of rows) {
    const item = parseItemId(row.step_id);
    const stepId = item?.stepId ?? row.step_id;
    const state: StepState = {
      stepId: row.step_id,
      status: row.status,
      attempt: row.attempt,
      output: row.output,
      error: row.error,
      retryAt: row.retry_at ?? undefined,
      ...(row.status === 'waiting' ? { ledgerId: row.id } : {}),
    };
    const step = workflow.steps.find((s) => s.id === stepId);
    if (!step) {
      if (row.status === 'running') throw new Error(`workflow ${workflow.id} has no step "${stepId}"`);
      states.set(row.step_id, state);
      continue;
    }
    if (step.forEach !== undefined && !item && row.status === 'running') {
      // A loop's own row stays open while its items run; only items are lost.
      loopOf(stepId).row = { id: row.id, input: row.input };
      states.set(row.step_id, state);
      continue;
    }
    if (row.status === 'running') {
      const error = workerLost(row.attempt);
      const decision = decideRetry(stepRetry(step, workflow.defaults), error, random);
      state.status = 'failed';
      state.error = error;
      state.retryAt = decision.retry ? now : undefined;
      lost.push({ id: row.id, status: 'failed', error, retryAt: state.retryAt, durationMs: 0 });
    }
    if (item) loopOf(stepId).items.set(item.index, state);
    else states.set(row.step_id, state);
  }
  return { states, lost, loops };
}
