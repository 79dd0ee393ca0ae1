/**
 * Worker liveness. graphile-worker alone releases a dead worker's jobs after 4 hours; here
 * every process beats every few seconds, renewing its run leases, and every process reaps
 * the ones that stopped beating: their queue locks are released (`force_unlock_workers`)
 * and their run leases cleared, so a surviving worker takes the work within seconds.
 *
 * It also listens for cancellations, so a running step sees its AbortSignal fire.
 */
import os from 'node:os';
import type { Knex } from 'knex';
import pg from 'pg';
import type { Logger } from '../log.ts';

export const CANCEL_CHANNEL = 'atlas_run_cancel';

export interface LivenessOptions {
  db: Knex;
  connectionString: string;
  processId: string;
  log: Logger;
  leaseMs: number;
  /** Beat interval; a process silent for `staleMs` is reaped. */
  beatMs?: number;
  staleMs?: number;
  onCancel(runId: string): void;
}

export class Liveness {
  readonly #queueIds = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #listener: pg.Client | undefined;
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
    await this.#listener?.end().catch(() => {});
    await this.opts.db('worker_heartbeats').where({ process_id: this.opts.processId }).delete();
  }

  async #beat(): Promise<void> {
    const { db, processId, leaseMs } = this.opts;
    await db.raw(
      `with beat as (
         insert into worker_heartbeats (process_id, queue_worker_ids, hostname, pid)
         values (?, ?, ?, ?)
         on conflict (process_id) do update set seen_at = now(), queue_worker_ids = excluded.queue_worker_ids
       )
       update workflow_runs set lease_expires_at = now() + make_interval(secs => ?)
        where lease_owner = ?`,
      [processId, [...this.#queueIds], os.hostname(), process.pid, leaseMs / 1000, processId],
    );
  }

  /** Releases the queue locks and run leases of processes that stopped beating. */
  async #reap(): Promise<void> {
    const { db, staleMs = 20_000 } = this.opts;
    await db.transaction(async (trx) => {
      const dead = await trx('worker_heartbeats')
        .where('seen_at', '<', trx.raw(`now() - make_interval(secs => ?)`, [staleMs / 1000]))
        .forUpdate()
        .skipLocked()
        .select<Array<{ process_id: string; queue_worker_ids: string[] }>>('process_id', 'queue_worker_ids');
      if (dead.length === 0) return;
      const queueIds = dead.flatMap((d) => d.queue_worker_ids);
      if (queueIds.length > 0)
        await trx.raw('select graphile_worker.force_unlock_workers(?::text[])', [queueIds]);
      const processes = dead.map((d) => d.process_id);
      await trx('workflow_runs')
        .whereIn('lease_owner', processes)
        .update({ lease_owner: null, lease_expires_at: null });
      await trx('worker_heartbeats').whereIn('process_id', processes).delete();
      this.opts.log.warn({ processes, queueWorkers: queueIds }, 'released the work of stopped workers');
    });
  }

  async #listen(): Promise<void> {
    if (this.#stopped) return;
    const client = new pg.Client({ connectionString: this.opts.connectionString });
    client.on('notification', (msg) => {
      if (msg.channel === CANCEL_CHANNEL && msg.payload) this.opts.onCancel(msg.payload);
    });
    client.on('error', (err) => {
      this.opts.log.warn({ err }, 'cancellation listener lost its connection; reconnecting');
      this.#listener = undefined;
      client.end().catch(() => {});
      setTimeout(() => this.#listen().catch(() => {}), 1000).unref();
    });
    await client.connect();
    await client.query(`listen ${CANCEL_CHANNEL}`);
    this.#listener = client;
  }
}
