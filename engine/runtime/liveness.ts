/**
 * Worker liveness. graphile-worker alone releases a dead worker's jobs after 4 hours; here
 * every process beats every few seconds, renewing the leases of the runs it is running, and every process reaps
 * the ones that stopped beating: their queue locks are released (`force_unlock_workers`)
 * and their run leases cleared, so a surviving worker takes the work within seconds.
 *
 * It also listens for cancellations, so a running step sees its AbortSignal fire.
 */
import os from 'node:os';
import type { Knex } from 'knex';
import { listenForCancels } from '../db/cancel-channel.ts';
import { beat, forgetWorker, reapStaleWorkers, releaseQueueLocks } from '../db/heartbeats.ts';
import type { Logger } from '../log.ts';

export interface LivenessOptions {
  db: Knex;
  connectionString: string;
  processId: string;
  log: Logger;
  leaseMs: number;
  /** The runs this process is running right now (whose leases each beat renews). */
  activeRuns(): string[];
  /** Beat interval; a process silent for `staleMs` is reaped. */
  beatMs?: number;
  staleMs?: number;
  onCancel(runId: string): void;
  /** A wait of a run this process may be running ended (see `notifyWake`). */
  onWake?(runId: string): void;
}

export class Liveness {
  readonly #queueIds = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #listener: { close(): Promise<void> } | undefined;
  #stopped = false;
  #beating: Promise<void> = Promise.resolve();

  constructor(private readonly opts: LivenessOptions) {}

  /** A graphile-worker pool or worker id of this process (the ids that lock jobs). */
  addQueueWorker(id: string): void {
    this.#queueIds.add(id);
    // Recorded at once: a process killed before its next beat must still have its locks
    // released by the others.
    this.#beating = this.#beating
      .then(() => this.#beat())
      .catch((err: unknown) => this.opts.log.warn({ err }, 'heartbeat failed; will try again'));
  }

  /**
   * A queue pool of this process ended (its runner was replaced): its ids are no longer this
   * process's, and the jobs it still locks are released, retried until the database answers.
   */
  async releaseQueueWorkers(ids: string[]): Promise<void> {
    for (const id of ids) this.#queueIds.delete(id);
    for (let tries = 0; !this.#stopped; tries++) {
      try {
        await releaseQueueLocks(this.opts.db, ids);
        return;
      } catch (err) {
        if (tries % 10 === 0)
          this.opts.log.warn({ err }, 'releasing the jobs of an ended queue pool failed; will try again');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  async start(): Promise<void> {
    await this.#beat();
    await this.#listen();
    const every = this.opts.beatMs ?? 5_000;
    this.#timer = setInterval(() => {
      this.#beating = this.#beat()
        .then(() => this.#reap())
        .catch((err: unknown) => {
          this.opts.log.warn({ err }, 'heartbeat failed; will try again');
        });
    }, every);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#beating;
    await this.#listener?.close().catch(() => {});
    await forgetWorker(this.opts.db, this.opts.processId);
  }

  async #beat(): Promise<void> {
    const { db, processId, leaseMs } = this.opts;
    await beat(db, {
      processId,
      queueWorkerIds: [...this.#queueIds],
      hostname: os.hostname(),
      pid: process.pid,
      leaseMs,
      runIds: this.opts.activeRuns(),
    });
  }

  /** Releases the queue locks and run leases of processes that stopped beating. */
  async #reap(): Promise<void> {
    const released = await reapStaleWorkers(this.opts.db, this.opts.staleMs ?? 20_000);
    if (released) this.opts.log.warn(released, 'released the work of stopped workers');
  }

  async #listen(): Promise<void> {
    if (this.#stopped) return;
    this.#listener = await listenForCancels(
      this.opts.connectionString,
      (runId) => this.opts.onCancel(runId),
      (err) => {
        this.opts.log.warn({ err }, 'cancellation listener lost its connection; reconnecting');
        this.#listener = undefined;
        setTimeout(() => this.#listen().catch(() => {}), 1000).unref();
      },
      (runId) => this.opts.onWake?.(runId),
    );
  }
}
