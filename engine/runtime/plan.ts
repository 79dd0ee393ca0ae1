/**
 * What a run does next, from its workflow and the ledger of its step attempts. Pure: the
 * advance loop reads the ledger, asks the plan, acts, and writes the ledger again.
 */
import type { Step, Workflow } from '../manifest/types.gen.ts';
import type { LoopStatus } from './loop.ts';

/** The latest attempt of a step in the current run attempt, as the ledger holds it. */
export interface StepState {
  stepId: string;
  status: 'running' | 'waiting' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
  attempt: number;
  output?: unknown;
  error?: unknown;
  /** Set on a failed attempt that will be tried again, and on a wait: when it ends. */
  retryAt?: Date | undefined;
  /** A waiting attempt's ledger id, when it was read back from the ledger. */
  ledgerId?: number;
}

export type Plan =
  | { kind: 'run'; ready: Array<{ step: Step; attempt: number }> }
  /** `until` null: only waits with no end of their own (a child run) remain; their end wakes the run. */
  | { kind: 'wait'; until: Date | null }
  | { kind: 'succeeded' }
  | { kind: 'failed'; stepId: string; error: unknown };

/** The steps a step waits for: its `needs`, or else the step before it. */
export function dependencies(workflow: Workflow, index: number): string[] {
  const step = workflow.steps[index]!;
  if (step.needs) return step.needs;
  return index === 0 ? [] : [workflow.steps[index - 1]!.id];
}

function isDone(step: Step, state: StepState | undefined): boolean {
  if (!state) return false;
  if (state.status === 'succeeded' || state.status === 'skipped') return true;
  return state.status === 'failed' && !state.retryAt && step.onError === 'continue';
}

/**
 * @param running step ids whose attempt is in flight in this process right now; their
 * ledger rows say `running`, and they are neither ready nor lost.
 */
export function plan(
  workflow: Workflow,
  states: Map<string, StepState>,
  now: Date,
  running = new Set<string>(),
  /** What a `forEach` step whose items are under way needs (its own row says `running`). */
  loopStatus: (stepId: string) => LoopStatus = () => 'ready',
): Plan {
  const ready: Array<{ step: Step; attempt: number }> = [];
  let wake: Date | undefined;
  let pending = 0;
  let open = false;
  for (const [index, step] of workflow.steps.entries()) {
    const state = states.get(step.id);
    if (isDone(step, state)) continue;
    const unfinished = state?.status === 'failed' || state?.status === 'cancelled';
    if (unfinished && !state.retryAt) return { kind: 'failed', stepId: step.id, error: state.error };
    pending++;
    if (step.forEach !== undefined && state?.status === 'running') {
      const status = loopStatus(step.id);
      if (status === 'ready') ready.push({ step, attempt: state.attempt });
      else if (status !== 'busy' && (!wake || status < wake)) wake = status;
      continue;
    }
    if (state?.status === 'waiting') {
      // A durable wait: it ends at its time (or when its signal arrives, or its child ends).
      if (!state.retryAt) open = true;
      else if (state.retryAt && state.retryAt <= now) ready.push({ step, attempt: state.attempt });
      else if (state.retryAt && (!wake || state.retryAt < wake)) wake = state.retryAt;
      continue;
    }
    if (running.has(step.id)) continue;
    const deps = dependencies(workflow, index);
    const depsDone = deps.every((id) => isDone(stepById(workflow, id), states.get(id)));
    if (!depsDone) continue;
    if (!state) {
      ready.push({ step, attempt: 1 });
    } else if (unfinished && state.retryAt) {
      if (state.retryAt <= now) ready.push({ step, attempt: state.attempt + 1 });
      else if (!wake || state.retryAt < wake) wake = state.retryAt;
    } else if (state.status === 'running') {
      // Left running by a worker that died: the advance loop records it as lost first.
      ready.push({ step, attempt: state.attempt + 1 });
    }
  }
  if (pending === 0) return { kind: 'succeeded' };
  if (ready.length > 0) return { kind: 'run', ready };
  if (wake) return { kind: 'wait', until: wake };
  if (open) return { kind: 'wait', until: null };
  // Only in-flight steps remain; their completion advances the run again.
  return { kind: 'run', ready: [] };
}

function stepById(workflow: Workflow, id: string): Step {
  const step = workflow.steps.find((s) => s.id === id);
  if (!step) throw new Error(`workflow ${workflow.id} has no step "${id}"`);
  return step;
}
