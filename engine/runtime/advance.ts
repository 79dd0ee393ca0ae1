/**
 * The engine loop for one run: claim it, then repeatedly ask the plan what is ready, record
 * skips, start attempts (checkpointed first), await completions and checkpoint them, until
 * the run is done or only waits for a retry time, which the queue brings back.
 *
 * Independent steps run in parallel inside one job; a crash repeats at most the attempts
 * that were in flight, and the ledger records them as lost.
 */

import type { FinishedAttempt, NewAttempt } from '../db/ledger-writer.ts';
import { latestStepRuns } from '../db/step-runs.ts';
import { sleep } from '../hub/index.ts';
import type { Step, Workflow } from '../manifest/types.gen.ts';
import type { ClaimedRun } from './claims.ts';
import type { Core } from './core.ts';
import { type AttemptResult, executeAttempt } from './execute.ts';
import { type Plan, plan, type StepState } from './plan.ts';
import { resumeStates } from './resume.ts';
import { cancelled, classify, decideRetry, failure, stepRetry, stepTimeoutMs } from './retry.ts';
import {
  loadTenantScope,
  type RenderedInput,
  type RunScope,
  readsTenant,
  renderInput,
  renderOutput,
  shouldRun,
  stepOutputs,
  triggerTime,
} from './scope.ts';
import { logStep } from './step-log.ts';

/** Waits up to this long stay in process; longer ones go back to the queue. */
const SHORT_WAIT_MS = 1_500;

interface Completion {
  stepId: string;
  ledgerId: number;
  attempt: number;
  startedAt: number;
  result: AttemptResult;
}

export async function advanceRun(core: Core, runId: string, tenantId: string): Promise<void> {
  const run = await core.claims.claim(runId, tenantId);
  if (!run) return;
  const cancel = core.cancels.watch(run.id);
  try {
    const workflow = await core.versions.of(run);
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
    await core.claims.release(run).catch(() => {});
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
        if (ms > SHORT_WAIT_MS) return this.core.claims.sleepUntil(this.run, next.until);
        await sleep(ms, this.cancel).catch(() => {});
        continue;
      }
      if (next.kind === 'succeeded') return this.end('succeeded');
      if (next.kind === 'failed') return this.end('failed', next);
    }
  }

  /** Reads the ledger; attempts left `running` by a dead worker are recorded as lost. */
  private async loadStates(): Promise<void> {
    const rows = await latestStepRuns(this.core.deps.db, this.run);
    const { states, lost } = resumeStates(rows, this.workflow, this.core.now(), this.core.random);
    for (const [id, state] of states) this.states.set(id, state);
    this.finished.push(...lost);
    for (const _ of lost) this.core.metrics.lost(this.run.workflow_id);
  }

  /** Plans until the only work left is to execute attempts: skips and input errors settle here. */
  private async settle(): Promise<Plan> {
    for (;;) {
      // A step prepared in an earlier pass of this loop is about to start, not left by a dead worker.
      const starting = new Set([...this.inFlight.keys(), ...this.pendingInputs.keys()]);
      const next = plan(this.workflow, this.states, this.core.now(), starting);
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
      const invalid = failure({ ...classify(err, attempt), kind: 'fatal', code: 'invalid_input' });
      this.states.set(step.id, { stepId: step.id, status: 'failed', attempt, error: invalid });
      this.started.push({ ...base, status: 'failed', error: invalid });
      return true;
    }
  }

  private readonly pendingInputs = new Map<string, RenderedInput>();
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
    if (!this.core.finishing.endsAlone(this.run)) {
      if (this.finished.length > 0 || this.started.length > 0) await this.flush();
      return this.core.finishing.finish(this.run, status, this.states, { output, error });
    }
    const outcome = await this.flush({ status, error, output });
    if (outcome.ended) this.core.finishing.ended(this.run, status, error);
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
      const of = stepRetry(step, this.workflow.defaults).maxAttempts;
      logStep(this.core.deps.log, this.run, step, `${c.attempt}/${of}`, durationMs);
      return;
    }
    const failed = c.result.failure;
    const settings = stepRetry(step, this.workflow.defaults);
    const decision = decideRetry(settings, failed, this.core.random);
    const retryAt = decision.retry ? new Date(this.core.now().getTime() + decision.delayMs) : undefined;
    const status = failed.code === 'cancelled' ? 'cancelled' : 'failed';
    this.states.set(c.stepId, { stepId: c.stepId, status, attempt: c.attempt, error: failed, retryAt });
    this.finished.push({ id: c.ledgerId, status, error: failed, retryAt, durationMs });
    this.core.metrics.step(step.uses, 'failed', durationMs);
    if (retryAt) this.core.metrics.retry(step.uses);
    logStep(
      this.core.deps.log,
      this.run,
      step,
      `${c.attempt}/${settings.maxAttempts}`,
      durationMs,
      failed,
      retryAt,
    );
  }

  /**
   * The run was cancelled: in-flight attempts see their signal fire and are recorded, and
   * attempts that were about to start are recorded as cancelled instead.
   */
  private async stopCancelled(unlaunched: NewAttempt[]): Promise<void> {
    this.core.cancels.abort(this.run.id);
    for (const s of this.started) {
      if (s.status === 'running') Object.assign(s, { status: 'cancelled', error: cancelled(s.attempt) });
    }
    for (const s of unlaunched) {
      const id = this.ledgerIds.get(s.stepId);
      if (id !== undefined)
        this.finished.push({ id, status: 'cancelled', error: cancelled(s.attempt), durationMs: 0 });
    }
    while (this.inFlight.size > 0) this.complete(await Promise.race(this.inFlight.values()));
    if (this.finished.length > 0 || this.started.length > 0) await this.flush();
    await this.core.claims.release(this.run);
  }

  private stepOf(id: string): Step {
    const step = this.workflow.steps.find((s) => s.id === id);
    if (!step) throw new Error(`workflow ${this.workflow.id} has no step "${id}"`);
    return step;
  }
}
