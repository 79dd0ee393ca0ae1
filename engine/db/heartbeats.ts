/**
 * Queries of `worker_heartbeats`, the liveness of worker processes: each beat renews the
 * process's run leases, and the work of processes that stopped beating is released.
 */
import type { Knex } from 'knex';

export interface Beat {
  processId: string;
  /** The graphile-worker pool and worker ids of the process (the ids that lock jobs). */
  queueWorkerIds: string[];
  hostname: string;
  pid: number;
  leaseMs: number;
  /** The runs the process is running right now: only their leases are renewed. */
  runIds: string[];
}

/**
 * Records the beat and renews the leases of the runs the process is running, in one
 * statement. A lease it holds on a run it no longer runs (its release failed: the database was
 * away) is not renewed, so it expires and another worker takes the run. The runs are locked
 * in id order, as checkpoints lock them: in any other order a beat and a checkpoint of the
 * same runs could deadlock.
 */
export async function beat(db: Knex, b: Beat): Promise<void> {
  await db.raw(
    `with beat as (
       insert into worker_heartbeats (process_id, queue_worker_ids, hostname, pid)
       values (?, ?, ?, ?)
       on conflict (process_id) do update set seen_at = now(), queue_worker_ids = excluded.queue_worker_ids
     )
     update workflow_runs set lease_expires_at = now() + make_interval(secs => ?)
      where id = any (array(select id from workflow_runs where lease_owner = ? and id = any(?::uuid[])
                             order by id for no key update))`,
    [b.processId, b.queueWorkerIds, b.hostname, b.pid, b.leaseMs / 1000, b.processId, b.runIds],
  );
}

/**
 * Releases the queue locks (`force_unlock_workers`) and run leases of the processes silent
 * for `staleMs`, and forgets them. Returns what it released, or undefined when none were.
 */
export async function reapStaleWorkers(
  db: Knex,
  staleMs: number,
): Promise<{ processes: string[]; queueWorkers: string[] } | undefined> {
  return db.transaction(async (trx) => {
    const dead = await trx('worker_heartbeats')
      .where('seen_at', '<', trx.raw(`now() - make_interval(secs => ?)`, [staleMs / 1000]))
      .forUpdate()
      .skipLocked()
      .select<Array<{ process_id: string; queue_worker_ids: string[] }>>('process_id', 'queue_worker_ids');
    if (dead.length === 0) return undefined;
    const queueWorkers = dead.flatMap((d) => d.queue_worker_ids);
    await releaseQueueLocks(trx, queueWorkers);
    const processes = dead.map((d) => d.process_id);
    await trx('workflow_runs')
      .whereIn('lease_owner', processes)
      .update({ lease_owner: null, lease_expires_at: null });
    await trx('worker_heartbeats').whereIn('process_id', processes).delete();
    return { processes, queueWorkers };
  });
}

/** Releases the queue jobs locked by these graphile-worker pool or worker ids. */
export async function releaseQueueLocks(db: Knex | Knex.Transaction, ids: string[]): Promise<void> {
  if (ids.length > 0) await db.raw('select graphile_worker.force_unlock_workers(?::text[])', [ids]);
}

export async function forgetWorker(db: Knex, processId: string): Promise<void> {
  await db('worker_heartbeats').where({ process_id: processId }).delete();
}

/** Whether some worker process beat within the last `withinMs`. */
export async function anyWorkerAlive(db: Knex, withinMs = 20_000): Promise<boolean> {
  const row = await db('worker_heartbeats')
    .where('seen_at', '>', db.raw('now() - make_interval(secs => ?)', [withinMs / 1000]))
    .first('process_id');
  return row !== undefined;
}
