/**
 * Claims and leases of `workflow_runs`: a worker takes a run by setting `lease_owner` and
 * `lease_expires_at` and incrementing `lease_epoch` (which its checkpoints carry); heartbeats renew the lease (`heartbeats.ts`), and a run whose owner
 * stopped beating has its lease cleared there.
 */
import type { Knex } from 'knex';
import type { RunRow } from './runs.ts';

type Db = Knex | Knex.Transaction;

/**
 * A claimed run; `fresh` when it had never started, so it has no step attempts yet.
 * `claimOnWrite`: taken without a claim (a fresh run, read only); its first checkpoint
 * claims it (`CheckpointItem.claim`), or `claimTakenRun` does if its pure steps take long.
 */
export type ClaimedRun = RunRow & { fresh: boolean; claimOnWrite?: boolean };

export interface ClaimRequest {
  id: string;
  tenant_id: string;
}

/**
 * The common claim in one statement for many runs: each must be queued or running, in no
 * concurrency group, and its lease free (or the owner's, or expired). The self-join reads
 * each row as it was, so `fresh` tells whether the run ever started. One result per request,
 * in order; undefined where the run was not claimed. The runs are reached through the primary
 * key (`id = any(array)`): a JSON record set, of a size the planner cannot know, made it walk
 * every run outside a concurrency group instead.
 */
export async function claimRuns(
  db: Db,
  items: ClaimRequest[],
  owner: string,
  leaseMs: number,
): Promise<Array<ClaimedRun | undefined>> {
  const { sql, bindings } = claimQuery(items, owner, leaseMs);
  const { rows } = await db.raw<{ rows: ClaimedRun[] }>(sql, bindings as Knex.RawBinding[]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return items.map((it) => byId.get(it.id));
}

/** The statement of {@link claimRuns}, and its bindings. */
export function claimQuery(
  items: ClaimRequest[],
  owner: string,
  leaseMs: number,
): { sql: string; bindings: unknown[] } {
  const ids = items.map((it) => it.id);
  return {
    sql: `update workflow_runs r
        set status = 'running', started_at = coalesce(r.started_at, now()), lease_owner = ?,
            lease_epoch = r.lease_epoch + 1,
            lease_expires_at = now() + make_interval(secs => ?), updated_at = now()
       from workflow_runs o, unnest(?::uuid[], ?::text[]) as c(id, tenant_id)
      where r.id = any (?::uuid[]) and r.id = c.id and r.tenant_id = c.tenant_id and o.id = r.id
        and r.status in ('queued', 'running', 'waiting') and r.concurrency_key is null
        and (r.lease_owner is null or r.lease_owner = ? or r.lease_expires_at < now())
    returning r.*, o.started_at is null as fresh`,
    bindings: [owner, leaseMs / 1000, ids, items.map((it) => it.tenant_id), ids, owner],
  };
}

/** Takes a run the caller has locked and checked (`lockRun`), whatever its lease or group. */
export async function claimLockedRun(
  trx: Knex.Transaction,
  run: RunRow,
  owner: string,
  leaseMs: number,
): Promise<RunRow | undefined> {
  const [claimed] = (await trx('workflow_runs')
    .where({ id: run.id, tenant_id: run.tenant_id })
    .update({
      status: 'running',
      started_at: trx.raw('coalesce(started_at, now())'),
      lease_owner: owner,
      lease_epoch: trx.raw('lease_epoch + 1'),
      lease_expires_at: trx.raw('now() + make_interval(secs => ?)', [leaseMs / 1000]),
      updated_at: trx.fn.now(),
    })
    .returning('*')) as RunRow[];
  return claimed;
}

/**
 * Serialises the claims of one concurrency group until the transaction ends, so two workers
 * cannot both take its last slot; returns how many of its runs are running.
 */
export async function lockConcurrencyGroup(trx: Knex.Transaction, run: RunRow): Promise<number> {
  await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [
    JSON.stringify([run.tenant_id, run.workflow_id, run.concurrency_key]),
  ]);
  const [counted] = (await trx('workflow_runs')
    .where({
      tenant_id: run.tenant_id,
      workflow_id: run.workflow_id,
      concurrency_key: run.concurrency_key,
    })
    .whereIn('status', ['running', 'waiting'])
    .count({ active: '*' })) as Array<{ active: number }>;
  return Number(counted?.active ?? 0);
}

/** Frees the run's lease if `owner` holds it. */
export async function releaseLease(
  db: Db,
  run: { id: string; tenant_id: string },
  owner: string,
): Promise<void> {
  await db('workflow_runs')
    .where({ id: run.id, tenant_id: run.tenant_id, lease_owner: owner })
    .update({ lease_owner: null, lease_expires_at: null, updated_at: db.fn.now() });
}

/** The runs as they are (no lock, no write), one result per request, in order. */
export async function peekRuns(db: Db, items: ClaimRequest[]): Promise<Array<RunRow | undefined>> {
  const { rows } = await db.raw<{ rows: RunRow[] }>(
    'select * from workflow_runs where id = any (?::uuid[])',
    [items.map((it) => it.id)],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return items.map((it) => {
    const row = byId.get(it.id);
    return row?.tenant_id === it.tenant_id ? row : undefined;
  });
}

/**
 * Claims a run taken without a claim, only if nothing changed since it was read: still
 * queued, its lease epoch the one read and its lease free. False when it was refused.
 */
export async function claimTakenRun(
  db: Db,
  run: { id: string; tenant_id: string; lease_epoch: number },
  owner: string,
  leaseMs: number,
): Promise<boolean> {
  const updated = await db('workflow_runs')
    .where({ id: run.id, tenant_id: run.tenant_id, lease_epoch: run.lease_epoch, status: 'queued' })
    .where((q) => q.whereNull('lease_owner').orWhere('lease_expires_at', '<', db.fn.now()))
    .update({
      status: 'running',
      started_at: db.raw('coalesce(started_at, now())'),
      lease_owner: owner,
      lease_epoch: db.raw('lease_epoch + 1'),
      lease_expires_at: db.raw('now() + make_interval(secs => ?)', [leaseMs / 1000]),
      updated_at: db.fn.now(),
    });
  return updated === 1;
}
