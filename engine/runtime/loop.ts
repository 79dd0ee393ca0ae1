/**
 * A `forEach` step: its list, and the state of each item. Each item is its own attempt
 * chain in the ledger (`<step>[i]`, retried by the step's policy); the step's own row
 * (`<step>`) holds the list while the items run and the list of their outputs at the end.
 * Pure bookkeeping: the advance loop renders, checkpoints and executes the items.
 */
import type { Step } from '../manifest/types.gen.ts';
import type { StepState } from './plan.ts';

/** An item's ledger id: `<step>[i]`. */
export function itemId(stepId: string, index: number): string {
  return `${stepId}[${index}]`;
}

/** The step id and index of an item's ledger id, or undefined for a step's own id. */
export function parseItemId(id: string): { stepId: string; index: number } | undefined {
  const match = /^(.+)\[(\d+)\]$/.exec(id);
  return match ? { stepId: match[1]!, index: Number(match[2]) } : undefined;
}

export const DEFAULT_MAX_ITEMS = 1000;

/** What the run loop should do about a loop now. */
export type LoopStatus = 'ready' | 'busy' | Date;

export class Loop {
  readonly states: Array<StepState | undefined>;
  /** Items checkpointed as started and not yet completed. */
  readonly inFlight = new Set<number>();
  /** Items that failed and wait for their next attempt. */
  readonly #retrying = new Set<number>();
  /** Items settled for good (succeeded, or failed after their last attempt). */
  #settled = 0;
  /** The lowest index never looked at by `due`. */
  #cursor = 0;
  /** The first item that failed for good when `onItemError` is `fail`. */
  failed: { index: number; error: unknown } | undefined;
  /** The step's own row was finished (succeeded, failed or cancelled). */
  closed = false;
  readonly startedAt = performance.now();

  constructor(
    readonly step: Step,
    readonly items: unknown[],
    prior: ReadonlyMap<number, StepState> = new Map(),
  ) {
    this.states = new Array(items.length).fill(undefined);
    for (const [index, state] of prior) {
      if (index < items.length) this.#track(index, state);
    }
  }

  get concurrency(): number {
    return this.step.concurrency ?? 1;
  }

  /** An item's attempt is checkpointed as started. */
  start(index: number, state: StepState): void {
    this.#retrying.delete(index);
    this.inFlight.add(index);
    this.states[index] = state;
  }

  /** Records an item's latest attempt (started, or finished). */
  record(index: number, state: StepState): void {
    this.inFlight.delete(index);
    this.#retrying.delete(index);
    this.#track(index, state);
  }

  #track(index: number, state: StepState): void {
    this.states[index] = state;
    if (state.status === 'running') return;
    if (state.status !== 'succeeded' && state.status !== 'skipped' && state.retryAt) {
      this.#retrying.add(index);
      return;
    }
    this.#settled++;
    if (state.status !== 'succeeded' && this.step.onItemError !== 'continue' && !this.failed)
      this.failed = { index, error: state.error };
  }

  /** Every item settled, or one failed and nothing is in flight: the step can end. */
  get done(): boolean {
    if (this.failed) return this.inFlight.size === 0;
    return this.#settled === this.items.length;
  }

  /** The items to start now (never more than the free slots), with their attempt numbers. */
  due(now: Date): Array<{ index: number; attempt: number }> {
    const out: Array<{ index: number; attempt: number }> = [];
    if (this.failed) return out;
    let slots = this.concurrency - this.inFlight.size;
    for (const index of this.#retrying) {
      if (slots <= 0) return out;
      const state = this.states[index]!;
      if (state.retryAt && state.retryAt <= now) {
        out.push({ index, attempt: state.attempt + 1 });
        slots--;
      }
    }
    while (slots > 0 && this.#cursor < this.items.length) {
      const index = this.#cursor++;
      if (this.states[index] !== undefined) continue;
      out.push({ index, attempt: 1 });
      slots--;
    }
    return out;
  }

  /** `ready` when there is something to start or the step can end; else busy, or the next retry time. */
  status(now: Date): LoopStatus {
    if (this.done) return 'ready';
    if (this.failed) return 'busy';
    const free = this.inFlight.size < this.concurrency;
    if (free && this.#nextUnstarted() < this.items.length) return 'ready';
    let wake: Date | undefined;
    for (const index of this.#retrying) {
      const at = this.states[index]!.retryAt!;
      if (at <= now && free) return 'ready';
      if (!wake || at < wake) wake = at;
    }
    if (this.inFlight.size > 0 || !wake) return 'busy';
    return wake;
  }

  #nextUnstarted(): number {
    while (this.#cursor < this.items.length && this.states[this.#cursor] !== undefined) this.#cursor++;
    return this.#cursor;
  }

  /** The step's output: each item's output in order, `{ error }` for an item that failed. */
  output(): unknown[] {
    return this.states.map((s) =>
      s?.status === 'succeeded' ? (s.output ?? null) : { error: s?.error ?? null },
    );
  }
}
