/**
 * The run outbox's dispatcher. A trigger commits only the run row (`dispatched = false`);
 * the dispatcher then adds the queue jobs of every such committed run in one statement, so
 * a burst of triggers costs one NOTIFY (and one serialised commit) instead of one each.
 *
 * Nothing accepted is lost: a run committed by a process that died before dispatching it is
 * picked up by the sweep every process with a runtime runs (`for update skip locked`, so
 * processes never hand the same run over twice, and the job key de-duplicates anyway).
 *
 * Tenants are served fairly (`db/run-outbox.ts`): a tenant at its limit of runs in flight
 * keeps its other runs here, queued, and a run that ends dispatches again at once when a
 * limit held runs back (the sweep would within a second anyway).
 */
import type { Knex } from 'knex';
import { GroupCommit } from '../db/group-commit.ts';
import { dispatchRuns } from '../db/run-outbox.ts';
import type { Logger } from '../log.ts';

const BATCH = 500;
/** Runs in flight per tenant unless configured (`ATLAS_TENANT_RUNS_IN_FLIGHT`). */
export const DEFAULT_RUNS_IN_FLIGHT = 200;

export class Dispatcher {
  readonly #group: GroupCommit<null, number>;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Whether the last pass left runs behind a tenant's limit. */
  #held = false;

  constructor(
    private readonly db: Knex,
    private readonly log: Logger,
    runsInFlight = DEFAULT_RUNS_IN_FLIGHT,
  ) {
    this.#group = new GroupCommit(async (items) => {
      let moved = 0;
      for (let n = BATCH; n === BATCH; moved += n) {
        const pass = await dispatchRuns(this.db, BATCH, runsInFlight);
        n = pass.moved;
        this.#held = pass.held;
      }
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

  /** A run of this process ended (a slot freed): dispatch again if a limit held runs back. */
  slotFreed(): void {
    if (this.#held) this.poke();
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
