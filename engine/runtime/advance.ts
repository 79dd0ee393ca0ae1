/**
 * The engine loop for one run: claim it, then repeatedly ask the plan what is ready, record
 * skips, start attempts (checkpointed first), await completions and checkpoint them, until
 * the run is done or only waits for a retry time, which the queue brings back.
 *
 * Independent steps run in parallel inside one job; a crash repeats at most the attempts
 * that were in flight, and the ledger records them as lost.
 */

import { ConnectorError } from '../connector-sdk/index.ts';
import type { FinishedAttempt, NewAttempt } from '../db/ledger-writer.ts';
import { latestStepRuns } from '../db/step-runs.ts';
import { sleep } from '../hub/index.ts';
import type { Step, Workflow } from '../manifest/types.gen.ts';
import type { ClaimedRun } from './claims.ts';
import type { Core } from './core.ts';
import { type AttemptResult, executeAttempt } from './execute.ts';
import { DEFAULT_MAX_ITEMS, itemId, Loop, type LoopStatus } from './loop.ts';
import { type Plan, plan, type StepState } from './plan.ts';
import { type ResumedLoop, resumeStates } from './resume.ts';
import {
  cancelled,
  classify,
  decideRetry,
  failure,
  signalTimeout,
  stepRetry,
  stepTimeoutMs,
} from './retry.ts';
import {
  itemLocals,
  loadTenantScope,
  type RenderedInput,
  type RunScope,
  readsTenant,
  renderInput,
  renderList,
  renderOutput,
  renderValue,
  shouldRun,
  stepOutputs,
  triggerTime,
} from './scope.ts';
import { logStep } from './step-log.ts';
import { type DurableWait, durableWait } from './waits.ts';

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
  /** `forEach` steps under way, and the item attempts started or in flight. */
  private readonly loops = new Map<string, Loop>();
  private readonly items = new Map<string, { loop: Loop; index: number }>();
  private resumed = new Map<string, ResumedLoop>();
  /** Attempts that ended and are not yet recorded. */
  private ended: Completion[] = [];
  private wakeUp: (() => void) | undefined;
  private crashed: { error: unknown } | undefined;

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
      for (const s of starting) if (this.pendingInputs.has(s.stepId)) this.launch(s.stepId, s.attempt);
      if (this.inFlight.size > 0) {
        for (const c of await this.completions()) this.complete(c);
        continue;
      }
      if (next.kind === 'wait') {
        const ms = next.until.getTime() - this.core.now().getTime();
        // The queue looks for future jobs every couple of seconds; a short backoff is
        // waited here (lease held, cancellation honoured) instead of overshooting it.
        if (ms > SHORT_WAIT_MS) {
          // A durable wait parks the run (`waiting`); a retry's backoff only frees the lease.
          const waits = this.waits();
          if (waits) return this.core.claims.park(this.run, next.until, waits);
          return this.core.claims.sleepUntil(this.run, next.until);
        }
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
    const { states, lost, loops } = resumeStates(rows, this.workflow, this.core.now(), this.core.random);
    for (const [id, state] of states) this.states.set(id, state);
    this.resumed = loops;
    this.finished.push(...lost);
    for (const _ of lost) this.core.metrics.lost(this.run.workflow_id);
  }

  /** Plans until the only work left is to execute attempts: skips and input errors settle here. */
  private async settle(): Promise<Plan> {
    for (;;) {
      // A step prepared in an earlier pass of this loop is about to start, not left by a dead worker.
      const starting = new Set([...this.inFlight.keys(), ...this.pendingInputs.keys()]);
      const next = plan(this.workflow, this.states, this.core.now(), starting, (id) => this.loopStatus(id));
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
    const current = this.states.get(step.id);
    if (step.forEach !== undefined && current?.status === 'running') return this.fillLoop(step);
    if (current?.status === 'waiting') return this.endWait(step, current);
    try {
      if (!shouldRun(step, this.scope, this.states)) {
        this.states.set(step.id, { stepId: step.id, status: 'skipped', attempt });
        this.started.push({ ...base, status: 'skipped', skipReason: 'its `if` condition was false' });
        return true;
      }
      if (step.forEach !== undefined) return await this.startLoop(step, base);
      const rendered = await renderInput(this.core.deps.secrets, step, this.scope, this.states);
      const wait = durableWait(step.uses, rendered.input, this.core.now());
      if (wait) return this.startWait(step, base, rendered, wait);
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
    if (outcome.ended) await this.core.finishing.ended(this.run, status, error);
  }

  private launch(id: string, attempt: number): void {
    const step = this.items.get(id)?.loop.step ?? this.stepOf(id);
    const rendered = this.pendingInputs.get(id)!;
    this.pendingInputs.delete(id);
    const entry = this.core.deps.connectors.action(step.uses);
    const ledgerId = this.ledgerIds.get(id)!;
    this.ledgerIds.delete(id);
    const startedAt = performance.now();
    const settings = stepRetry(step, this.workflow.defaults);
    const promise = (async (): Promise<Completion> => {
      const result = entry
        ? await executeAttempt(this.core.deps, {
            entry,
            input: rendered.input,
            tenantId: this.run.tenant_id,
            runId: this.run.id,
            stepId: id,
            attempt,
            maxAttempts: settings.maxAttempts,
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
          })
        : {
            ok: false as const,
            failure: classify(new Error(`no action "${step.uses}" is registered`), attempt),
          };
      return {
        stepId: id,
        ledgerId,
        attempt,
        startedAt,
        result,
      };
    })();
    this.inFlight.set(id, promise);
    promise.then(
      (c) => {
        this.ended.push(c);
        this.wakeUp?.();
      },
      (error: unknown) => {
        this.crashed = { error };
        this.wakeUp?.();
      },
    );
  }

  /** Every attempt that ended since the last call (at least one), so that they share a checkpoint. */
  private async completions(): Promise<Completion[]> {
    while (this.ended.length === 0 && !this.crashed) {
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
      });
      this.wakeUp = undefined;
    }
    if (this.crashed) throw this.crashed.error;
    const out = this.ended;
    this.ended = [];
    return out;
  }

  private complete(c: Completion): void {
    this.inFlight.delete(c.stepId);
    const durationMs = Math.round(performance.now() - c.startedAt);
    const item = this.items.get(c.stepId);
    this.items.delete(c.stepId);
    const step = item?.loop.step ?? this.stepOf(c.stepId);
    const record = (state: StepState) =>
      item ? item.loop.record(item.index, state) : this.states.set(c.stepId, state);
    if (c.result.ok) {
      const { output } = c.result;
      record({ stepId: c.stepId, status: 'succeeded', attempt: c.attempt, output });
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
    record({ stepId: c.stepId, status, attempt: c.attempt, error: failed, retryAt });
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
      if (id !== undefined && !this.loops.has(s.stepId))
        this.finished.push({ id, status: 'cancelled', error: cancelled(s.attempt), durationMs: 0 });
    }
    for (const [stepId, loop] of this.loops) {
      const id = this.ledgerIds.get(stepId);
      const attempt = this.states.get(stepId)?.attempt ?? 1;
      if (!loop.closed && id !== undefined)
        this.finished.push({ id, status: 'cancelled', error: cancelled(attempt), durationMs: 0 });
    }
    while (this.inFlight.size > 0) for (const c of await this.completions()) this.complete(c);
    if (this.finished.length > 0 || this.started.length > 0) await this.flush();
    await this.core.claims.release(this.run);
  }

  private loopStatus(stepId: string): LoopStatus {
    const loop = this.loops.get(stepId);
    // Not in memory yet (resumed from the ledger): preparing it rebuilds it.
    return loop ? loop.status(this.core.now()) : 'ready';
  }

  /** Starts a `forEach` step: its list, checked and stored on its own row, then its first items. */
  private async startLoop(step: Step, base: Omit<NewAttempt, 'status'>): Promise<boolean> {
    const list = await renderList(step, this.scope, this.states);
    if (!Array.isArray(list)) {
      const kind = list === null ? 'null' : typeof list === 'object' ? 'an object' : `a ${typeof list}`;
      throw new Error(`forEach must be a list, but it is ${kind}`);
    }
    const max = step.maxItems ?? DEFAULT_MAX_ITEMS;
    if (list.length > max) {
      throw new Error(
        `forEach has ${list.length} items, more than maxItems (${max}); raise maxItems (at most 10000) or split the list`,
      );
    }
    // A run retried after a failure keeps the items that already succeeded.
    const loop = new Loop(step, list, this.resumed.get(step.id)?.items);
    this.resumed.delete(step.id);
    this.loops.set(step.id, loop);
    this.states.set(step.id, { stepId: step.id, status: 'running', attempt: base.attempt });
    this.started.push({ ...base, status: 'running', input: { items: list } });
    await this.fillLoop(step);
    return true;
  }

  /** Rebuilds a loop whose items were under way when its run was last checkpointed. */
  private resumeLoop(step: Step): Loop {
    const resumed = this.resumed.get(step.id);
    const items = (resumed?.row?.input as { items?: unknown[] } | null)?.items ?? [];
    const loop = new Loop(step, items, resumed?.items);
    if (resumed?.row) this.ledgerIds.set(step.id, resumed.row.id);
    this.resumed.delete(step.id);
    this.loops.set(step.id, loop);
    return loop;
  }

  /** Queues the items due now, up to the step's concurrency; ends the step when all are done. */
  private async fillLoop(step: Step): Promise<boolean> {
    const loop = this.loops.get(step.id) ?? this.resumeLoop(step);
    let changed = false;
    const maxAttempts = stepRetry(step, this.workflow.defaults).maxAttempts;
    for (const { index, attempt } of loop.due(this.core.now())) {
      const id = itemId(step.id, index);
      const base = { stepId: id, uses: step.uses, attempt, maxAttempts };
      try {
        const locals = itemLocals(step, loop.items[index], index);
        const rendered = await renderInput(this.core.deps.secrets, step, this.scope, this.states, locals);
        this.pendingInputs.set(id, rendered);
        this.items.set(id, { loop, index });
        loop.start(index, { stepId: id, status: 'running', attempt });
        this.started.push({ ...base, status: 'running', input: rendered.stored });
      } catch (err) {
        const invalid = failure({ ...classify(err, attempt), kind: 'fatal', code: 'invalid_input' });
        loop.record(index, { stepId: id, status: 'failed', attempt, error: invalid });
        this.started.push({ ...base, status: 'failed', error: invalid });
        changed = true;
      }
    }
    if (!loop.done) return changed;
    this.closeLoop(step, loop);
    return true;
  }

  /** Ends a `forEach` step's own row: the list of item outputs, or the first item's failure. */
  private closeLoop(step: Step, loop: Loop): void {
    loop.closed = true;
    this.loops.delete(step.id);
    const attempt = this.states.get(step.id)?.attempt ?? 1;
    const durationMs = Math.round(performance.now() - loop.startedAt);
    const ending: Pick<FinishedAttempt, 'status' | 'output' | 'error'> = loop.failed
      ? {
          status: 'failed',
          error: {
            ...(loop.failed.error as object),
            item: loop.failed.index,
            message: `item ${loop.failed.index} failed: ${(loop.failed.error as { message?: string })?.message ?? 'unknown error'}`,
          },
        }
      : { status: 'succeeded', output: loop.output() };
    this.states.set(step.id, { stepId: step.id, attempt, ...ending });
    this.endRow(step.id, durationMs, ending);
    this.core.metrics.step(step.uses, ending.status, durationMs);
  }

  /**
   * Ends a step's open row (a loop's, a wait's): a finished attempt when it was checkpointed,
   * or the pending start itself when it ends in the checkpoint that starts it.
   */
  private endRow(
    stepId: string,
    durationMs: number,
    ending: Pick<FinishedAttempt, 'status' | 'output' | 'error'>,
    ledgerId?: number,
  ): void {
    const id = this.ledgerIds.get(stepId) ?? ledgerId;
    this.ledgerIds.delete(stepId);
    if (id !== undefined) {
      this.finished.push({ id, durationMs, ...ending });
      return;
    }
    const row = this.started.find(
      (s) => s.stepId === stepId && (s.status === 'running' || s.status === 'waiting'),
    );
    if (row) Object.assign(row, ending, { retryAt: undefined });
  }

  /** Whether a durable wait is pending, so a long pause parks the run rather than only freeing its lease. */
  private waits(): number[] | undefined {
    const ids: number[] = [];
    for (const state of this.states.values()) {
      if (state.status !== 'waiting') continue;
      const id = this.ledgerIds.get(state.stepId) ?? state.ledgerId;
      if (id !== undefined) ids.push(id);
    }
    return ids.length > 0 ? ids : undefined;
  }

  /** Records a durable wait: its input checked, its end time and output on a `waiting` row. */
  private startWait(
    step: Step,
    base: Omit<NewAttempt, 'status'>,
    rendered: RenderedInput,
    wait: DurableWait,
  ): boolean {
    const checked = this.core.deps.connectors.validateInput(step.uses, rendered.input);
    if (!checked.ok) {
      const detail = checked.issues.map((i) => i.message).join('; ');
      throw ConnectorError.fatal('invalid_input', `the input of ${step.uses} is invalid: ${detail}`);
    }
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
  private endWait(step: Step, state: StepState): boolean {
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

  private stepOf(id: string): Step {
    const step = this.workflow.steps.find((s) => s.id === id);
    if (!step) throw new Error(`workflow ${this.workflow.id} has no step "${id}"`);
    return step;
  }
}
