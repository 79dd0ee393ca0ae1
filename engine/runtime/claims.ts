/**
 * Claims and leases: taking a run for this process (under its lease and its concurrency
 * limit), giving the lease back, and handing the run back to the queue for later.
 */
import type { Knex } from 'knex';
import { GroupCommit } from '../db/group-commit.ts';
import { enqueueRun } from '../db/queue.ts';
import {
  type ClaimedRun,
  type ClaimRequest,
  claimLockedRun,
  claimRuns,
  claimTakenRun,
  lockConcurrencyGroup,
  peekRuns,
  releaseLease,
} from '../db/run-claims.ts';
import { lockRun, parkRun, type RunRow } from '../db/runs.ts';
import { countWaiting } from '../db/signals.ts';
import type { RuntimeDeps } from './deps.ts';

export type { ClaimedRun } from '../db/run-claims.ts';

const DEFAULT_LEASE_MS = 30_000;
/** A run waiting for a concurrency slot is also re-checked this often, in case a wake-up is lost. */
const CONCURRENCY_RECHECK_MS = 15_000;
/** A job for a run this process is running is looked at again after this long. */
const BUSY_RECHECK_MS = 1_000;

export class Claims {
  readonly leaseMs: number;
  readonly #batch: GroupCommit<ClaimRequest, ClaimedRun | undefined>;
  readonly #peeks: GroupCommit<ClaimRequest, RunRow | undefined>;

  constructor(
    private readonly deps: RuntimeDeps,
    private readonly now: () => Date,
  ) {
    this.leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
    // The common claim (no concurrency group, lease free) is group-committed with the
    // claims of other runs starting in this process.
    this.#batch = new GroupCommit((items) => claimRuns(deps.db, items, deps.processId, this.leaseMs));
    this.#peeks = new GroupCommit((items) => peekRuns(deps.db, items));
  }

  /**
   * Takes the run for this process. A fresh run outside any concurrency group, with its lease
   * free and nothing hanging on its end (`endsAlone`), is only read: its claim rides in its
   * first checkpoint (`claimOnWrite`), so a run of pure steps is claimed and ended in one
   * write. Any other run is claimed now (`claim`).
   */
  async take(
    runId: string,
    tenantId: string,
    endsAlone: (run: RunRow) => boolean,
  ): Promise<ClaimedRun | undefined> {
    const run = await this.#peeks.submit({ id: runId, tenant_id: tenantId });
    const free = run && (run.lease_owner === null || run.lease_expires_at! < this.now());
    if (run && free && run.status === 'queued' && run.started_at === null && run.concurrency_key === null) {
      if (endsAlone(run)) return { ...run, fresh: true, claimOnWrite: true };
    }
    return this.claim(runId, tenantId);
  }

  /**
   * Claims a run taken without a claim whose first checkpoint is not near (its pure steps run
   * long), so that it shows `running` and holds a lease. False when it was refused.
   */
  claimTaken(run: ClaimedRun): Promise<boolean> {
    return claimTakenRun(this.deps.db, run, this.deps.processId, this.leaseMs);
  }

  /**
   * Takes the run for this process: it must be queued or running, its lease free (or ours,
   * or expired), and its concurrency group below its limit. Undefined means "not now": the
   * run is finished, or another worker holds it, or it waits for a slot (rescheduled).
   */
  async claim(runId: string, tenantId: string): Promise<ClaimedRun | undefined> {
    const claimed = await this.#batch.submit({ id: runId, tenant_id: tenantId });
    if (claimed) return claimed;
    const slow = await this.deps.db.transaction((trx) => this.#claimSlow(trx, runId, tenantId));
    return slow && { ...slow, fresh: false };
  }

  async #claimSlow(trx: Knex.Transaction, runId: string, tenantId: string): Promise<RunRow | undefined> {
    const run = await lockRun(trx, tenantId, runId);
    if (!run || (run.status !== 'queued' && run.status !== 'running' && run.status !== 'waiting'))
      return undefined;
    const leased =
      run.lease_owner && run.lease_owner !== this.deps.processId && run.lease_expires_at! > this.now();
    if (leased) {
      await enqueueRun(trx, run, new Date(run.lease_expires_at!.getTime() + 100));
      return undefined;
    }
    if (run.status === 'queued' && run.concurrency_key !== null) {
      const active = await lockConcurrencyGroup(trx, run);
      if (active >= (run.concurrency_limit ?? 1)) {
        await enqueueRun(trx, run, new Date(this.now().getTime() + CONCURRENCY_RECHECK_MS));
        return undefined;
      }
    }
    return claimLockedRun(trx, run, this.deps.processId, this.leaseMs);
  }

  /** Only retries remain, due later: free the lease and come back at that time. */
  async sleepUntil(run: RunRow, until: Date): Promise<void> {
    await this.deps.db.transaction(async (trx) => {
      await releaseLease(trx, run, this.deps.processId);
      await enqueueRun(trx, run, until);
    });
  }

  /**
   * Only durable waits remain (a timer, a signal, a child run): the run becomes `waiting`,
   * holds no lease and no worker, and its queue job brings it back at `until` (a signal or a
   * child's end brings it sooner).
   */
  async park(run: RunRow, until: Date | null, waits: number[]): Promise<void> {
    await this.deps.db.transaction(async (trx) => {
      if (!(await lockRun(trx, run.tenant_id, run.id))) return;
      // A signal that ended a wait since the last checkpoint: go on now, from the ledger.
      if ((await countWaiting(trx, run.tenant_id, waits)) < waits.length) {
        await releaseLease(trx, run, this.deps.processId);
        await enqueueRun(trx, run);
        return;
      }
      // With no time of its own (a child run), only the wait's end brings it back.
      if ((await parkRun(trx, run)) && until) await enqueueRun(trx, run, until);
    });
  }

  /** The run's job again in a second (this process is running it right now). */
  later(run: { id: string; tenant_id: string }): Promise<void> {
    return enqueueRun(this.deps.db, run, new Date(this.now().getTime() + BUSY_RECHECK_MS));
  }

  release(run: RunRow): Promise<void> {
    return releaseLease(this.deps.db, run, this.deps.processId);
  }
}
