/**
 * Executing attempts and recording their outcomes. A side-effecting attempt was checkpointed
 * `running` before it ran (a crash leaves that row for `worker_lost` recovery), so its outcome
 * finishes the row. A pure attempt (`core.set`, `core.noop`, actions declaring `pure: true`)
 * runs at once, unrecorded, and its outcome is one finished row in the run's next durable
 * write: a crash before that write loses nothing that a replay does not compute again.
 */
import type { FinishedAttempt, NewAttempt } from '../db/ledger-writer.ts';
import type { Step } from '../manifest/types.gen.ts';
import { type AttemptResult, executeAttempt } from './execute.ts';
import type { StepState } from './plan.ts';
import { classify, decideRetry, stepRetry, stepTimeoutMs } from './retry.ts';
import { WaitSteps } from './run-waits.ts';
import { type RenderedInput, stepOutputs } from './scope.ts';
import { logStep } from './step-log.ts';

export interface Completion {
  stepId: string;
  /** The attempt's `running` row; a pure attempt has none. */
  ledgerId: number | undefined;
  attempt: number;
  startedAt: number;
  result: AttemptResult;
  /** A pure attempt's row, written once with its outcome. */
  row?: Omit<NewAttempt, 'status'>;
}

export abstract class AttemptSteps extends WaitSteps {
  /** Whether the step's action declares itself pure, so its attempts need no checkpoint of their own. */
  protected isPure(step: Step): boolean {
    return this.core.deps.connectors.action(step.uses)?.action.pure === true;
  }

  /** Runs one attempt of a step (or of a loop item `id`) through the hub's context. */
  protected execute(
    step: Step,
    id: string,
    attempt: number,
    rendered: RenderedInput,
  ): Promise<AttemptResult> {
    const entry = this.core.deps.connectors.action(step.uses);
    if (!entry) {
      const error = new Error(`no action "${step.uses}" is registered`);
      return Promise.resolve({ ok: false, failure: classify(error, attempt) });
    }
    return executeAttempt(this.core.deps, {
      entry,
      input: rendered.input,
      tenantId: this.run.tenant_id,
      runId: this.run.id,
      stepId: id,
      attempt,
      maxAttempts: stepRetry(step, this.workflow.defaults).maxAttempts,
      idempotencyKey: `${this.run.id}:${id}`,
      timeoutMs: stepTimeoutMs(step, this.workflow.defaults),
      cancel: this.cancel,
      runAttempt: this.run.run_attempt,
      run: {
        workflowId: this.run.workflow_id,
        input: this.run.input,
        trigger: this.run.trigger,
        steps: stepOutputs(this.states),
      },
      redactor: rendered.redactor,
    });
  }

  /** Runs a pure attempt now; its outcome joins the pending checkpoint. */
  protected async runPure(
    step: Step,
    row: Omit<NewAttempt, 'status'>,
    rendered: RenderedInput,
  ): Promise<void> {
    const startedAt = performance.now();
    const result = await this.execute(step, row.stepId, row.attempt, rendered);
    const { stepId, attempt } = row;
    this.complete({
      stepId,
      ledgerId: undefined,
      attempt,
      startedAt,
      result,
      row: { ...row, input: rendered.stored },
    });
  }

  /** Records an attempt's outcome: its state, its row (finished or written once), metrics and log. */
  protected complete(c: Completion): void {
    const durationMs = Math.round(performance.now() - c.startedAt);
    const item = this.items.get(c.stepId);
    this.items.delete(c.stepId);
    const step = item?.loop.step ?? this.stepOf(c.stepId);
    const record = (state: StepState) =>
      item ? item.loop.record(item.index, state) : this.states.set(c.stepId, state);
    const settings = stepRetry(step, this.workflow.defaults);
    const write = (ending: Pick<FinishedAttempt, 'status' | 'output' | 'error' | 'retryAt'>) => {
      if (c.row) this.started.push({ ...c.row, ...ending, durationMs });
      else this.finished.push({ id: c.ledgerId!, ...ending, durationMs });
    };
    if (c.result.ok) {
      const { output } = c.result;
      record({ stepId: c.stepId, status: 'succeeded', attempt: c.attempt, output });
      write({ status: 'succeeded', output });
      this.core.metrics.step(step.uses, 'succeeded', durationMs);
      logStep(this.core.deps.log, this.run, step, `${c.attempt}/${settings.maxAttempts}`, durationMs);
      return;
    }
    const failed = c.result.failure;
    const decision = decideRetry(settings, failed, this.core.random);
    const retryAt = decision.retry ? new Date(this.core.now().getTime() + decision.delayMs) : undefined;
    const status = failed.code === 'cancelled' ? 'cancelled' : 'failed';
    record({ stepId: c.stepId, status, attempt: c.attempt, error: failed, retryAt });
    write({ status, error: failed, retryAt });
    this.core.metrics.step(step.uses, 'failed', durationMs);
    if (retryAt) this.core.metrics.retry(step.uses);
    const of = `${c.attempt}/${settings.maxAttempts}`;
    logStep(this.core.deps.log, this.run, step, of, durationMs, failed, retryAt);
  }
}
