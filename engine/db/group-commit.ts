/**
 * Group commit: writes that arrive while one is in flight are sent together as the next
 * one, and those submitted in the same turn of the event loop as the first, so N concurrent
 * callers cost one round trip and one disk flush instead of N. Each caller still waits for
 * the commit that holds its own item.
 *
 * A batch that fails is retried item by item, so one bad item cannot fail the others.
 */
import type { Knex } from 'knex';
export class GroupCommit<I, O> {
  #queue: Array<{ item: I; resolve(out: O): void; reject(err: unknown): void }> = [];
  #writing = false;
  #drained: Promise<void> = Promise.resolve();

  /** `write` returns one outcome per item, in order. */
  constructor(private readonly write: (items: I[]) => Promise<O[]>) {}

  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#writing) return;
      // The first batch starts a microtask later, so that the items submitted in the same
      // turn (one poke per run of a commit, say) share it.
      this.#writing = true;
      this.#drained = Promise.resolve().then(() => this.#drain());
    });
  }

  /** Resolves once everything submitted so far is written (before a pool closes, say). */
  async settled(): Promise<void> {
    while (this.#writing || this.#queue.length > 0) await this.#drained;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        try {
          const outcomes = await this.write(batch.map((p) => p.item));
          for (const [i, p] of batch.entries()) p.resolve(outcomes[i]!);
        } catch (err) {
          if (batch.length === 1) batch[0]!.reject(err);
          else for (const p of batch) await this.write([p.item]).then(([o]) => p.resolve(o!), p.reject);
        }
      }
    } finally {
      this.#writing = false;
    }
  }
}

/**
 * One group commit per database handle, made on its first use: the batches of one pool
 * never mix with another's. `existing` is for waiting on them before the pool closes.
 */
export function groupPerDatabase<I, O>(write: (db: Knex, items: I[]) => Promise<O[]>) {
  const groups = new WeakMap<Knex, GroupCommit<I, O>>();
  return {
    of(db: Knex): GroupCommit<I, O> {
      let group = groups.get(db);
      if (!group) {
        group = new GroupCommit((items) => write(db, items));
        groups.set(db, group);
      }
      return group;
    },
    existing: (db: Knex): GroupCommit<I, O> | undefined => groups.get(db),
  };
}
