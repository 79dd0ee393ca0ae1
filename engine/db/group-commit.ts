/**
 * Group commit: writes that arrive while one is in flight are sent together as the next
 * one, and those submitted in the same turn of the event loop as the first, so N concurrent
 * callers cost one round trip and one disk flush instead of N. Each caller still waits for
 * the commit that holds its own item.
 *
 * `inFlight` batches may be written at once (default 1). With more than one, a batch does
 * not wait for the commit ahead of it, and PostgreSQL merges the disk flushes of commits
 * that arrive together; the writer must then tolerate concurrent batches (rows locked in
 * key order, no lock held across the batch that the next one needs).
 *
 * A batch that fails is retried item by item, so one bad item cannot fail the others.
 */
import type { Knex } from 'knex';

interface Pending<I, O> {
  item: I;
  resolve(out: O): void;
  reject(err: unknown): void;
}

export interface GroupCommitOptions {
  /** Batches written at once (default 1). */
  inFlight?: number;
}

export class GroupCommit<I, O> {
  #queue: Array<Pending<I, O>> = [];
  #writing = 0;
  #starting = false;
  readonly #inFlight: number;
  readonly #idle = new Set<() => void>();

  /** `write` returns one outcome per item, in order. */
  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    options: GroupCommitOptions = {},
  ) {
    this.#inFlight = Math.max(1, Math.floor(options.inFlight ?? 1));
  }

  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#start();
    });
  }

  /** Resolves once everything submitted so far is written (before a pool closes, say). */
  async settled(): Promise<void> {
    while (this.#writing > 0 || this.#queue.length > 0 || this.#starting)
      await new Promise<void>((resolve) => this.#idle.add(resolve));
  }

  /**
   * Starts a batch if a slot is free. It starts a microtask later, so that the items
   * submitted in the same turn (one poke per run of a commit, say) share it.
   */
  #start(): void {
    if (this.#starting || this.#writing >= this.#inFlight || this.#queue.length === 0) return;
    this.#starting = true;
    this.#writing += 1;
    queueMicrotask(() => {
      this.#starting = false;
      const batch = this.#queue;
      this.#queue = [];
      void this.#writeBatch(batch).finally(() => {
        this.#writing -= 1;
        this.#start();
        if (this.#writing === 0 && this.#queue.length === 0) {
          for (const wake of this.#idle) wake();
          this.#idle.clear();
        }
      });
    });
  }

  async #writeBatch(batch: Array<Pending<I, O>>): Promise<void> {
    if (batch.length === 0) return;
    try {
      const outcomes = await this.write(batch.map((p) => p.item));
      for (const [i, p] of batch.entries()) p.resolve(outcomes[i]!);
    } catch (err) {
      if (batch.length === 1) batch[0]!.reject(err);
      else for (const p of batch) await this.write([p.item]).then(([o]) => p.resolve(o!), p.reject);
    }
  }
}

/**
 * One group commit per database handle, made on its first use: the batches of one pool
 * never mix with another's. `existing` is for waiting on them before the pool closes.
 */
export function groupPerDatabase<I, O>(
  write: (db: Knex, items: I[]) => Promise<O[]>,
  options: GroupCommitOptions = {},
) {
  const groups = new WeakMap<Knex, GroupCommit<I, O>>();
  return {
    of(db: Knex): GroupCommit<I, O> {
      let group = groups.get(db);
      if (!group) {
        group = new GroupCommit((items) => write(db, items), options);
        groups.set(db, group);
      }
      return group;
    },
    existing: (db: Knex): GroupCommit<I, O> | undefined => groups.get(db),
  };
}
