/**
 * The engine loop for one run: claim it, then repeatedly ask the plan what is ready, record
 * skips, start attempts (checkpointed first), await completions and checkpoint them, until
 * the run is done or only waits for a retry time, which the queue brings back.
 *
 * Independent steps run in parallel inside one job; a crash repeats at most the attempts
 * that were in flight, and the ledger records them as lost.
 */

import type { FinishedAttempt, NewAttempt } from '../db/ledger-writer.ts';
import { latestStepRuns } from '../db/runs.ts';
import { sleep } from '../hub/index.ts';
import type { Step, Workflow } from '../manifest/types.gen.ts';
import type { ClaimedRun, Core } from './core.ts';
import { executeAttempt } from './execute.ts';
import { type Plan, plan, type StepState } from './plan.ts';
import { classify, decideRetry, stepRetry, stepTimeoutMs } from './retry.ts';
import {
  loadTenantScope,
  type RunScope,
  readsTenant,
  renderInput,
  renderOutput,
  shouldRun,
  stepOutputs,
  triggerTime,
} from './scope.ts';

/** Waits up to this long stay in process; longer ones go back to the queue. */
const SHORT_WAIT_MS = 1_500;

interface Completion {
  stepId: string;
  ledgerId: number;
  attempt: number;
  startedAt: number;
  result: Awaited<ReturnType<typeof executeAttempt>>;
}

export async function advanceRun(core: Core, runId: string, tenantId: string): Promise<void> {
  const run = await core.claim(runId, tenantId);
  if (!run) return;
  const cancel = core.cancellation(run.id);
  try {
    const workflow = await core.workflowFor(run);
    const scope: RunScope = {
      workflowId: run.workflow_id,
      tenantId,
      input: run.input,
      trigger: run.trigger,
      now: triggerTime(run.trigger, run.created_at),
      tenant: readsTenant(workflow) ? await loadTenantScope(core.deps, tenantId, run.workflow_id) : undefined,
    };
    await new RunLoop(core, run, workflow, scope, cancel.signal).drive();
  } catch (err) {
    // The queue retries this job (the database blinked, say): free the lease so that the
    // retry may run on any worker, instead of waiting for this process to let go.
    await core.releaseLease(run).catch(() => {});
    throw err;
  } finally {
    cancel.release();
  }
}

class RunLoop {
  private readonly states = new Map<string, StepState>();
  private readonly inFlight = new Map<string, Promise<Completion>>();
  private finished: FinishedAttempt[] = [];
  private started: NewAttempt[] = [];

  constructor(
    private readonly core: Core,
    private readonly run: ClaimedRun,
    private readonly workflow: Workflow,
    private readonly scope: RunScope,
    private readonly cancel: AbortSignal,
  ) {}

  async drive(): Promise<void> {
    if (!this.run.fresh) await this.loadStates();
    for (;;) {
      const next = await this.settle();
      if (this.cancel.aborted) return this.stopCancelled([]);
      const starting = this.started.filter((s) => s.status === 'running');
      if (this.finished.length > 0 || this.started.length > 0) {
        const { runStatus } = await this.flush();
        if (runStatus !== 'running') return this.stopCancelled(starting);
      }
      for (const s of starting) this.launch(this.stepOf(s.stepId), s.attempt);
      if (this.inFlight.size > 0) {
        this.complete(await Promise.race(this.inFlight.values()));
        continue;
      }
      if (next.kind === 'wait') {
        const ms = next.until.getTime() - this.core.now().getTime();
        // The queue looks for future jobs every couple of seconds; a short backoff is
        // waited here (lease held, cancellation honoured) instead of overshooting it.
        if (ms > SHORT_WAIT_MS) return this.core.sleepUntil(this.run, next.until);
        await sleep(ms, this.cancel).catch(() => {});
        continue;
      }
      if (next.kind === 'succeeded') return this.end('succeeded');
      if (next.kind === 'failed') return this.end('failed', next);
    }
  }

  /** Reads the ledger; attempts left `running` by a dead worker are recorded as lost. */
  private async loadStates(): Promise<void> {
    for (const row of await latestStepRuns(this.core.deps.db, this.run)) {
      const state: StepState = {
        stepId: row.step_id,
        status: row.status,
        attempt: row.attempt,
        output: row.output,
        error: row.error,
        retryAt: row.retry_at ?? undefined,
      };
      if (row.status === 'running') {
        const step = this.stepOf(row.step_id);
        const failure = { ...classify(new Error('the worker running this attempt stopped'), row.attempt) };
        Object.assign(failure, { code: 'worker_lost', kind: 'retryable', retryable: true });
        const decision = decideRetry(stepRetry(step, this.workflow.defaults), failure, this.core.random);
        state.status = 'failed';
        state.error = failure;
        state.retryAt = decision.retry ? this.core.now() : undefined;
        this.finished.push({
          id: row.id,
          status: 'failed',
          error: failure,
          retryAt: state.retryAt,
          durationMs: 0,
        });
        this.core.metrics.lost(this.run.workflow_id);
      }
      this.states.set(row.step_id, state);
    }
  }

  /** Plans until the only work left is to execute attempts: skips and input errors settle here. */
  private async settle(): Promise<Plan> {
    for (;;) {
      const next = plan(this.workflow, this.states, this.core.now(), new Set(this.inFlight.keys()));
      if (next.kind !== 'run' || next.ready.length === 0) return next;
      let changed = false;
      for (const { step, attempt } of next.ready) {
        if (await this.prepare(step, attempt)) changed = true;
      }
      if (!changed) return next;
    }
  }

  /** Records a skip or an input error (returns true), or queues the attempt's start. */
  private async prepare(step: Step, attempt: number): Promise<boolean> {
    const base = {
      stepId: step.id,
      uses: step.uses,
      attempt,
      maxAttempts: stepRetry(step, this.workflow.defaults).maxAttempts,
    };
    try {
      if (!shouldRun(step, this.scope, this.states)) {
        this.states.set(step.id, { stepId: step.id, status: 'skipped', attempt });
        this.started.push({ ...base, status: 'skipped', skipReason: 'its `if` condition was false' });
        return true;
      }
      const rendered = await renderInput(this.core.deps.secrets, step, this.scope, this.states);
      this.pendingInputs.set(step.id, rendered);
      this.states.set(step.id, { stepId: step.id, status: 'running', attempt });
      this.started.push({ ...base, status: 'running', input: rendered.stored });
      return false;
    } catch (err) {
      const failure = {
        ...classify(err, attempt),
        kind: 'fatal' as const,
        retryable: false,
        code: 'invalid_input',
      };
      this.states.set(step.id, { stepId: step.id, status: 'failed', attempt, error: failure });
      this.started.push({ ...base, status: 'failed', error: failure });
      return true;
    }
  }

  private readonly pendingInputs = new Map<string, Awaited<ReturnType<typeof renderInput>>>();
  private ledgerIds = new Map<string, number>();

  /** Writes the pending checkpoint (group-committed with other runs'); returns the run's status. */
  private async flush(end?: { status: 'succeeded' | 'failed'; error: unknown; output?: unknown }) {
    const outcome = await this.core.writer.write({
      tenantId: this.run.tenant_id,
      runId: this.run.id,
      runAttempt: this.run.run_attempt,
      worker: this.core.deps.processId,
      finished: this.finished,
      started: this.started,
      ...(end ? { end } : {}),
    });
    for (const [stepId, id] of outcome.ids) this.ledgerIds.set(stepId, id);
    this.finished = [];
    this.started = [];
    return outcome;
  }

  /**
   * Ends the run. When nothing hangs on its end (no concurrency group to wake, no workflow
   * watching it), the end rides in the last checkpoint's commit; otherwise the runtime ends
   * it in a transaction with the runs it triggers.
   */
  private async end(
    status: 'succeeded' | 'failed',
    failed?: { stepId: string; error: unknown },
  ): Promise<void> {
    let output: unknown;
    let error: Record<string, unknown> | null = failed
      ? { step: failed.stepId, ...(failed.error as object) }
      : null;
    if (status === 'succeeded') {
      try {
        output = renderOutput(this.workflow, this.scope, this.states);
      } catch (err) {
        // Every step succeeded, but the output cannot be built: the run fails and says why.
        status = 'failed';
        error = {
          code: 'invalid_output',
          kind: 'fatal',
          retryable: false,
          message: `output: ${(err as Error).message}`,
        };
      }
    }
    if (!this.core.endsAlone(this.run)) {
      if (this.finished.length > 0 || this.started.length > 0) await this.flush();
      return this.core.finish(this.run, status, this.states, failed, { output, error });
    }
    const outcome = await this.flush({ status, error, output });
    if (outcome.ended) this.core.ended(this.run, status, error);
  }

  private launch(step: Step, attempt: number): void {
    const rendered = this.pendingInputs.get(step.id)!;
    this.pendingInputs.delete(step.id);
    const entry = this.core.deps.connectors.action(step.uses);
    const ledgerId = this.ledgerIds.get(step.id)!;
    const startedAt = performance.now();
    const settings = stepRetry(step, this.workflow.defaults);
    const promise = (async (): Promise<Completion> => {
      const result = entry
        ? await executeAttempt(this.core.deps, {
            entry,
            input: rendered.input,
            tenantId: this.run.tenant_id,
            runId: this.run.id,
            stepId: step.id,
            attempt,
            maxAttempts: settings.maxAttempts,
            idempotencyKey: `${this.run.id}:${step.id}`,
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
          })
        : {
            ok: false as const,
            failure: classify(new Error(`no action "${step.uses}" is registered`), attempt),
          };
      return {
        stepId: step.id,
        ledgerId,
        attempt,
        startedAt,
        result,
      };
    })();
    this.inFlight.set(step.id, promise);
  }

  private complete(c: Completion): void {
    this.inFlight.delete(c.stepId);
    const durationMs = Math.round(performance.now() - c.startedAt);
    const step = this.stepOf(c.stepId);
    if (c.result.ok) {
      const { output } = c.result;
      this.states.set(c.stepId, { stepId: c.stepId, status: 'succeeded', attempt: c.attempt, output });
      this.finished.push({ id: c.ledgerId, status: 'succeeded', output, durationMs });
      this.core.metrics.step(step.uses, 'succeeded', durationMs);
      this.core.logStep(
        this.run,
        step,
        `${c.attempt}/${stepRetry(step, this.workflow.defaults).maxAttempts}`,
        durationMs,
      );
      return;
    }
    const { failure } = c.result;
    const settings = stepRetry(step, this.workflow.defaults);
    const decision = decideRetry(settings, failure, this.core.random);
    const retryAt = decision.retry ? new Date(this.core.now().getTime() + decision.delayMs) : undefined;
    const status = failure.code === 'cancelled' ? 'cancelled' : 'failed';
    this.states.set(c.stepId, { stepId: c.stepId, status, attempt: c.attempt, error: failure, retryAt });
    this.finished.push({ id: c.ledgerId, status, error: failure, retryAt, durationMs });
    this.core.metrics.step(step.uses, 'failed', durationMs);
    if (retryAt) this.core.metrics.retry(step.uses);
    this.core.logStep(this.run, step, `${c.attempt}/${settings.maxAttempts}`, durationMs, failure, retryAt);
  }

  /**
   * The run was cancelled: in-flight attempts see their signal fire and are recorded, and
   * attempts that were about to start are recorded as cancelled instead.
   */
  private async stopCancelled(unlaunched: NewAttempt[]): Promise<void> {
    this.core.abort(this.run.id);
    const cancelled = {
      code: 'cancelled',
      message: 'the run was cancelled',
      kind: 'fatal',
      retryable: false,
    };
    for (const s of this.started) {
      if (s.status === 'running') Object.assign(s, { status: 'cancelled', error: cancelled });
    }
    for (const s of unlaunched) {
      const id = this.ledgerIds.get(s.stepId);
      if (id !== undefined) this.finished.push({ id, status: 'cancelled', error: cancelled, durationMs: 0 });
    }
    while (this.inFlight.size > 0) this.complete(await Promise.race(this.inFlight.values()));
    if (this.finished.length > 0 || this.started.length > 0) await this.flush();
    await this.core.releaseLease(this.run);
  }

  private stepOf(id: string): Step {
    const step = this.workflow.steps.find((s) => s.id === id);
    if (!step) throw new Error(`workflow ${this.workflow.id} has no step "${id}"`);
    return step;
  }
}
