import type { FinishedAttempt, NewAttempt } from '../db/ledger-writer.ts';
import { latestStepRuns } from '../db/step-runs.ts';
import type { Step } from '../manifest/types.gen.ts';
import { type CallInput, startCall } from './calls.ts';
import type { StepState } from './plan.ts';
import { signalTimeout } from './retry.ts';
import { RunState } from './run-state.ts';
import { type RenderedInput, renderValue } from './scope.ts';
import type { DurableWait } from './waits.ts';

export abstract class WaitSteps extends RunState {
  /** Whether a durable wait is pending, so a long pause parks the run rather than only freeing its lease. */
  protected waits(): number[] | undefined {
    const ids: number[] = [];
    for (const state of this.states.values()) {
      if (state.status !== 'waiting') continue;
      const id = this.ledgerIds.get(state.stepId) ?? state.ledgerId;
      if (id !== undefined) ids.push(id);
    }
    return ids.length > 0 ? ids : undefined;
  }

  /** Records a durable wait: its input checked, its end time and output on a `waiting` row. */
  protected startWait(
    step: Step,
    base: Omit<NewAttempt, 'status'>,
    rendered: RenderedInput,
    wait: DurableWait,
  ): boolean {
    this.checkInput(step, rendered);
    const state: StepState = {
      stepId: step.id,
      status: 'waiting',
      attempt: base.attempt,
      output: wait.output,
      retryAt: wait.until,
    };
    this.states.set(step.id, state);
    this.started.push({
      ...base,
      status: 'waiting',
      input: rendered.stored,
      output: wait.output,
      retryAt: wait.until,
    });
    return true;
  }

  /**
   * A durable wait reached its time: the step succeeds with the output recorded when it
   * began; a signal that did not come takes `onTimeout`, or fails with kind `timeout`.
   */
  protected endWait(step: Step, state: StepState): boolean {
    let ending: Pick<FinishedAttempt, 'status' | 'output' | 'error'> = {
      status: 'succeeded',
      output: state.output,
    };
    if (step.uses === 'core.waitForSignal') {
      const name = String((step.with as { name?: unknown } | undefined)?.name ?? '');
      ending = step.onTimeout
        ? { status: 'succeeded', output: renderValue(step.onTimeout.output, this.scope, this.states) }
        : { status: 'failed', error: signalTimeout(state.attempt, name) };
    }
    this.states.set(step.id, { stepId: step.id, attempt: state.attempt, ...ending });
    this.endRow(step.id, 0, ending, state.ledgerId);
    this.core.metrics.step(step.uses, ending.status, 0);
    return true;
  }

  /** Starts a child run; the step waits for it (a `waiting` row with no end time) or is done. */
  protected async startCall(
    step: Step,
    base: Omit<NewAttempt, 'status'>,
    rendered: RenderedInput,
  ): Promise<boolean> {
    this.checkInput(step, rendered);
    await this.claimFirst();
    const call = await startCall(this.core, this.run, { id: step.id, ...base }, rendered.input as CallInput);
    const state: StepState = call.waits
      ? {
          stepId: step.id,
          status: 'waiting',
          attempt: base.attempt,
          output: call.output,
          ledgerId: call.ledgerId,
        }
      : { stepId: step.id, status: 'succeeded', attempt: base.attempt, output: call.output };
    this.states.set(step.id, state);
    return true;
  }

  /** Waits ended while the run was active (a signal, a child's end) take their outcome from the ledger. */
  protected async refreshWaits(): Promise<void> {
    const open = [...this.states.values()].filter((s) => s.status === 'waiting');
    if (open.length === 0) return;
    const rows = await latestStepRuns(this.core.deps.db, this.run);
    for (const state of open) {
      const row = rows.find((r) => r.step_id === state.stepId);
      if (!row || row.status === 'waiting' || row.attempt !== state.attempt) continue;
      const { status, attempt, output, error } = row;
      this.states.set(state.stepId, { stepId: state.stepId, status, attempt, output, error });
      this.ledgerIds.delete(state.stepId);
    }
  }
}
