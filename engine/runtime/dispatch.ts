/**
 * The run outbox's dispatcher. A trigger commits only the run row (`dispatched = false`);
 * the dispatcher then adds the queue jobs of every such committed run in one statement, so
 * a burst of triggers costs one NOTIFY (and one serialised commit) instead of one each.
 *
 * Nothing accepted is lost: a run committed by a process that died before dispatching it is
 * picked up by the sweep every process with a runtime runs (`for update skip locked`, so
 * processes never hand the same run over twice, and the job key de-duplicates anyway).
 */
import type { Knex } from 'knex';
import { GroupCommit } from '../db/group-commit.ts';
import { dispatchRuns } from '../db/run-outbox.ts';
import type { Logger } from '../log.ts';

const BATCH = 500;

export class Dispatcher {
  readonly #group: GroupCommit<null, number>;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly db: Knex,
    private readonly log: Logger,
  ) {
    this.#group = new GroupCommit(async (items) => {
      let moved = 0;
      for (let n = BATCH; n === BATCH; moved += n) n = await dispatchRuns(this.db, BATCH);
      return items.map(() => moved);
    });
  }

  /** Hands every committed, undispatched run to the queue; resolves when that is durable. */
  flush(): Promise<number> {
    return this.#group.submit(null);
  }

  /** After a caller's transaction commits: dispatch soon, without making anyone wait. */
  poke(): void {
    // After stop the pool may be closing: a run committed now waits, durable, for the sweep
    // of the next process that starts.
    if (this.#stopped) return;
    this.flush().catch((err: unknown) =>
      this.log.warn({ err }, 'dispatching runs failed; the sweep will retry'),
    );
  }

  /** The safety net for runs whose creator died between commit and dispatch. */
  startSweep(everyMs = 1_000): void {
    this.#timer = setInterval(() => this.poke(), everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.flush().catch(() => {});
  }
}
