/**
 * Audit entries chained after their change commits. The change's transaction records the
 * entry in `audit_pending` (no chain head locked there, so one tenant's concurrent writes
 * commit together); right after the commit a group-committed batch moves every entry waiting
 * into the chain with one `audit_chain_pending` call: one head update per tenant per batch,
 * committed without waiting for the disk (the entries were durable before it).
 * Entries a crashed process left behind are taken by any later batch once they are
 * {@link STALE} old, and by the sweep every process runs.
 */
import type { Knex } from 'knex';
import { groupPerDatabase } from './group-commit.ts';

/** How old a waiting entry is before any process's batch takes it (its writer died). */
const STALE = '5 seconds';

/**
 * Records entries (rows as `audit_append` takes them) in the caller's transaction; returns
 * their ids in `audit_pending`, to hand to {@link chainAudit} after the commit.
 */
export async function deferRows(trx: Knex.Transaction, rows: unknown[]): Promise<number[]> {
  const result = await trx.raw<{ rows: Array<{ id: string | number | null }> }>(
    'select audit_defer(?::jsonb) as id',
    [JSON.stringify(rows)],
  );
  return result.rows.flatMap((r) => (r.id === null ? [] : [Number(r.id)]));
}

/** Chains the given waiting entries and any stale ones in one statement; returns how many. */
export async function chainPendingAudit(db: Knex, ids: number[] = []): Promise<number> {
  const { rows } = await db.raw<{ rows: Array<{ n: string }> }>(
    'select audit_chain_pending(?::bigint[], ?) as n',
    [ids, STALE],
  );
  return Number(rows[0]?.n ?? 0);
}

const chainers = groupPerDatabase<number, void>(async (db, batch) => {
  await chainPendingAudit(db, batch);
  return batch.map(() => undefined);
});

/**
 * Resolves once the entries with these ids are chained (by this batch, or by another
 * process's that took them first). Call it after the transaction that recorded them commits.
 */
export async function chainAudit(db: Knex, ids: number[]): Promise<void> {
  const chainer = chainers.of(db);
  await Promise.all(ids.map((id) => chainer.submit(id)));
}

/** Waits for batches still in flight (before the pool closes). */
export async function chainsSettled(db: Knex): Promise<void> {
  await chainers.existing(db)?.settled();
}

/**
 * Chains what crashed processes left waiting: once now, then every `everyMs`. Returns the
 * stop function, which also waits for batches in flight.
 */
export function sweepPendingAudit(
  db: Knex,
  onError: (err: Error) => void,
  everyMs = 10_000,
): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const sweep = () => {
    running = chainPendingAudit(db).catch(onError);
  };
  sweep();
  const timer = setInterval(sweep, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
    await chainsSettled(db);
  };
}

/**
 * Waits until what this session has read is on disk. Batches commit without waiting for the
 * disk (their entries are durable in `audit_pending` already, and a batch lost in a crash is
 * chained again), so a head read just after one could vanish in a crash: an anchor or a
 * verified head handed out must not.
 */
export async function chainFlushed(db: Knex | Knex.Transaction, timeoutMs = 2000): Promise<void> {
  const { rows } = await db.raw<{ rows: Array<{ lsn: string }> }>(
    'select pg_current_wal_insert_lsn()::text as lsn',
  );
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const done = await db.raw<{ rows: Array<{ ok: boolean }> }>(
      'select pg_current_wal_flush_lsn() >= ?::pg_lsn as ok',
      [rows[0]!.lsn],
    );
    if (done.rows[0]?.ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
