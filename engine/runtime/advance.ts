/**
 * The engine loop for one run: claim it, then repeatedly ask the plan what is ready, record
 * skips, start attempts (checkpointed first), await completions and checkpoint them, until
 * the run is done or only waits for a retry time, which the queue brings back.
 *
 * Independent steps run in parallel inside one job; a crash repeats at most the attempts
 * that were in flight, and the ledger records them as lost.
 */

import type { NewAttempt } from '../db/ledger-writer.ts';
import { sleep } from '../hub/index.ts';
import type { Step } from '../manifest/types.gen.ts';
import { CALL_ACTION } from './calls.ts';
import type { ClaimedRun } from './claims.ts';
import type { Core } from './core.ts';
import { ClaimRefused, LeaseLost } from './errors.ts';
import { type Plan, plan } from './plan.ts';
import { cancelled, classify, failure, stepRetry } from './retry.ts';
import type { Completion } from './run-attempts.ts';
import { LoopSteps } from './run-loops.ts';
import {
  loadTenantScope,
  type RenderedInput,
  type RunScope,
  readsTenant,
  renderInput,
  shouldRun,
  triggerTime,
} from './scope.ts';
import { durableWait } from './waits.ts';

/** Waits up to this long stay in process; longer ones go back to the queue. */
const SHORT_WAIT_MS = 1_500;

export async function advanceRun(core: Core, runId: string, tenantId: string): Promise<void> {
  // This process runs it already (a signal made its job due): that loop sees the signal; this
  // job looks again shortly, in case the loop was just letting go.
  if (core.cancels.isRunning(runId)) return core.claims.later({ id: runId, tenant_id: tenantId });
  // Watched before the claim: a second job of the run in this process (its first job's lock
  // was released while it ran) must find it busy, not claim it again under a new epoch.
  const cancel = core.cancels.watch(runId);
  let run: ClaimedRun | undefined;
  try {
    run = await core.claims.take(runId, tenantId, (r) => core.finishing.endsAlone(r));
    if (!run) return;
    const workflow = await core.versions.of(run);
    const scope: RunScope = {
      runId: run.id,
      workflowId: run.workflow_id,
      tenantId,
      input: run.input,
      trigger: run.trigger,
      now: triggerTime(run.trigger, run.created_at),
      tenant: readsTenant(workflow) ? await loadTenantScope(core.deps, tenantId, run.workflow_id) : undefined,
    };
    const loop = new RunLoop(core, run, workflow, scope, cancel.signal);
    const stopWaking = core.cancels.onWake(run.id, () => loop.poke());
    await loop.drive().finally(() => {
      stopWaking();
      loop.close();
    });
  } catch (err) {
    if (!run) throw err;
    if (err instanceof LeaseLost) return core.fenced(run, err);
    // Taken without a claim, and cancelled or claimed elsewhere since: nothing was written.
    if (err instanceof ClaimRefused) return;
    // The queue retries this job (the database blinked, say): free the lease so that the
    // retry may run on any worker, instead of waiting for this process to let go.
    await core.claims.release(run).catch(() => {});
    throw err;
  } finally {
    cancel.release();
  }
}

class RunLoop extends LoopSteps {
  private readonly inFlight = new Map<string, Promise<Completion>>();
  /** Attempts that ended and are not yet recorded. */
  private ended: Completion[] = [];
  private wakeUp: (() => void) | undefined;
  private crashed: { error: unknown } | undefined;
  /** A wait ended while attempts run (a signal, a child's end): read the ledger before planning again. */
  private poked = false;
  private refresh = false;

  poke(): void {
    this.poked = true;
    this.wakeUp?.();
  }

  async drive(): Promise<void> {
    if (!this.run.fresh) await this.loadStates();
    for (;;) {
      const next = await this.settle();
      if (this.cancel.aborted) return this.stopCancelled([]);
      const starting = this.started.filter((s) => s.status === 'running');
      // A run that ends with nothing to start or await writes its last attempts with its end.
      const ends = (next.kind === 'succeeded' || next.kind === 'failed') && starting.length === 0;
      if (!(ends && this.inFlight.size === 0) && (this.finished.length > 0 || this.started.length > 0)) {
        const { runStatus } = await this.flush();
        if (runStatus !== 'running') return this.stopCancelled(starting);
      }
      for (const s of starting) if (this.pendingInputs.has(s.stepId)) this.launch(s.stepId, s.attempt);
      if (this.inFlight.size > 0) {
        for (const c of await this.completions()) this.complete(c);
        if (this.refresh) {
          this.refresh = false;
          await this.refreshWaits();
        }
        continue;
      }
      if (next.kind === 'wait') {
        const ms = next.until ? next.until.getTime() - this.core.now().getTime() : Number.POSITIVE_INFINITY;
        // The queue looks for future jobs every couple of seconds; a short backoff is
        // waited here (lease held, cancellation honoured) instead of overshooting it.
        if (ms > SHORT_WAIT_MS) {
          // A durable wait parks the run (`waiting`); a retry's backoff only frees the lease.
          const waits = this.waits();
          if (waits) return this.core.claims.park(this.run, next.until, waits);
          if (!next.until) throw new Error(`run ${this.run.id} waits with nothing to wait for`);
          return this.core.claims.sleepUntil(this.run, next.until);
        }
        await sleep(ms, this.cancel).catch(() => {});
        continue;
      }
      if (next.kind === 'succeeded') return this.end('succeeded');
      if (next.kind === 'failed') return this.end('failed', next);
    }
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
    let pure: RenderedInput | undefined;
    try {
      if (!shouldRun(step, this.scope, this.states)) {
        this.states.set(step.id, { stepId: step.id, status: 'skipped', attempt });
        this.started.push({ ...base, status: 'skipped', skipReason: 'its `if` condition was false' });
        return true;
      }
      if (step.forEach !== undefined) return await this.startLoop(step, base);
      const rendered = await renderInput(this.core.deps.secrets, step, this.scope, this.states);
      if (step.uses === CALL_ACTION) return await this.startCall(step, base, rendered);
      const wait = durableWait(step.uses, rendered.input, this.core.now());
      if (wait) return this.startWait(step, base, rendered, wait);
      if (this.isPure(step)) pure = rendered;
      else {
        this.pendingInputs.set(step.id, rendered);
        this.states.set(step.id, { stepId: step.id, status: 'running', attempt });
        this.started.push({ ...base, status: 'running', input: rendered.stored });
        return false;
      }
    } catch (err) {
      const invalid = failure({ ...classify(err, attempt), kind: 'fatal', code: 'invalid_input' });
      this.states.set(step.id, { stepId: step.id, status: 'failed', attempt, error: invalid });
      this.started.push({ ...base, status: 'failed', error: invalid });
      return true;
    }
    // No checkpoint before it: it rides in the run's next durable write.
    await this.runPure(step, base, pure);
    return true;
  }

  private launch(id: string, attempt: number): void {
    const step = this.items.get(id)?.loop.step ?? this.stepOf(id);
    const rendered = this.pendingInputs.get(id)!;
    this.pendingInputs.delete(id);
    const ledgerId = this.ledgerIds.get(id)!;
    this.ledgerIds.delete(id);
    const startedAt = performance.now();
    const promise = this.execute(step, id, attempt, rendered).then(
      (result): Completion => ({ stepId: id, ledgerId, attempt, startedAt, result }),
    );
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
    while (this.ended.length === 0 && !this.crashed && !this.poked) {
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
      });
      this.wakeUp = undefined;
    }
    if (this.crashed) throw this.crashed.error;
    if (this.poked) {
      this.poked = false;
      this.refresh = true;
    }
    const out = this.ended;
    this.ended = [];
    for (const c of out) this.inFlight.delete(c.stepId);
    return out;
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
}
