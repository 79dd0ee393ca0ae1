/**
 * What the advance loop of one run knows: the step states, the checkpoint being built (attempts
 * started and finished), the loops under way and the ledger ids of open rows. The loop's parts
 * (waits, loops, the loop itself) extend it.
 */
import { ConnectorError } from '../connector-sdk/index.ts';
import type { FinishedAttempt, NewAttempt } from '../db/ledger-writer.ts';
import { latestStepRuns } from '../db/step-runs.ts';
import type { Step, Workflow } from '../manifest/types.gen.ts';
import type { ClaimedRun } from './claims.ts';
import type { Core } from './core.ts';
import { ClaimRefused, LeaseLost } from './errors.ts';
import type { Loop } from './loop.ts';
import type { StepState } from './plan.ts';
import { type ResumedLoop, resumeStates } from './resume.ts';
import { type RenderedInput, type RunScope, renderOutput } from './scope.ts';

/** A run taken without a claim is claimed on its own if its first checkpoint has not come by then. */
const CLAIM_AFTER_MS = 200;

export abstract class RunState {
  protected readonly states = new Map<string, StepState>();
  protected finished: FinishedAttempt[] = [];
  protected started: NewAttempt[] = [];
  /** `forEach` steps under way, and the item attempts started or in flight. */
  protected readonly loops = new Map<string, Loop>();
  protected readonly items = new Map<string, { loop: Loop; index: number }>();
  protected resumed = new Map<string, ResumedLoop>();
  protected readonly pendingInputs = new Map<string, RenderedInput>();
  protected ledgerIds = new Map<string, number>();
  /** The claim of a run taken without one, when its pure steps outlast `CLAIM_AFTER_MS`. */
  #claiming: Promise<boolean> | undefined;
  #claimTimer: NodeJS.Timeout | undefined;

  constructor(
    protected readonly core: Core,
    protected readonly run: ClaimedRun,
    protected readonly workflow: Workflow,
    protected readonly scope: RunScope,
    protected readonly cancel: AbortSignal,
  ) {
    if (run.claimOnWrite) {
      this.#claimTimer = setTimeout(() => this.#claimNow(), CLAIM_AFTER_MS);
      this.#claimTimer.unref();
    }
  }

  #claimNow(): void {
    if (!this.run.claimOnWrite || this.#claiming) return;
    this.#claiming = this.core.claims.claimTaken(this.run).then((claimed) => {
      if (claimed) this.#claimed();
      return claimed;
    });
    // Its error, if any, is the next checkpoint's.
    this.#claiming.catch(() => {});
  }

  #claimed(): void {
    this.run.claimOnWrite = false;
    this.run.lease_epoch += 1;
    this.run.status = 'running';
  }

  /** Claims a run taken without a claim now, before a write that is not a checkpoint (a call). */
  protected async claimFirst(): Promise<void> {
    clearTimeout(this.#claimTimer);
    this.#claimNow();
    if (this.#claiming && !(await this.#claiming)) throw new ClaimRefused(this.run.id);
  }

  /** The loop let the run go: a run taken without a claim is not claimed any more. */
  close(): void {
    clearTimeout(this.#claimTimer);
  }

  /**
   * Ends a step's open row (a loop's, a wait's): a finished attempt when it was checkpointed,
   * or the pending start itself when it ends in the checkpoint that starts it.
   */
  protected endRow(
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
    if (row) Object.assign(row, ending, { retryAt: undefined, durationMs });
  }

  protected checkInput(step: Step, rendered: RenderedInput): void {
    const checked = this.core.deps.connectors.validateInput(step.uses, rendered.input);
    if (!checked.ok) {
      const detail = checked.issues.map((i) => i.message).join('; ');
      throw ConnectorError.fatal('invalid_input', `the input of ${step.uses} is invalid: ${detail}`);
    }
  }

  protected stepOf(id: string): Step {
    const step = this.workflow.steps.find((s) => s.id === id);
    if (!step) throw new Error(`workflow ${this.workflow.id} has no step "${id}"`);
    return step;
  }

  /** Reads the ledger; attempts left `running` by a dead worker are recorded as lost. */
  protected async loadStates(): Promise<void> {
    const rows = await latestStepRuns(this.core.deps.db, this.run);
    const { states, lost, loops } = resumeStates(rows, this.workflow, this.core.now(), this.core.random);
    for (const [id, state] of states) this.states.set(id, state);
    this.resumed = loops;
    this.finished.push(...lost);
    for (const _ of lost) this.core.metrics.lost(this.run.workflow_id);
  }

  /** Writes the pending checkpoint (group-committed with other runs'); returns the run's status. */
  protected async flush(end?: { status: 'succeeded' | 'failed'; error: unknown; output?: unknown }) {
    clearTimeout(this.#claimTimer);
    if (this.#claiming && !(await this.#claiming)) throw new ClaimRefused(this.run.id);
    const claim = this.run.claimOnWrite ? { leaseMs: this.core.claims.leaseMs } : undefined;
    const outcome = await this.core.writer.write({
      tenantId: this.run.tenant_id,
      runId: this.run.id,
      runAttempt: this.run.run_attempt,
      leaseEpoch: this.run.lease_epoch,
      worker: this.core.deps.processId,
      finished: this.finished,
      started: this.started,
      ...(end ? { end } : {}),
      ...(claim ? { claim } : {}),
    });
    if (outcome.fenced) {
      if (claim) throw new ClaimRefused(this.run.id);
      throw new LeaseLost(this.run.id, this.run.lease_epoch);
    }
    if (claim) {
      // It was queued, and is this worker's now.
      this.#claimed();
      outcome.runStatus = 'running';
    }
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
  protected async end(
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
}
