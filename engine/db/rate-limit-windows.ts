/**
 * Queries of `rate_limit_windows`: the fixed-window counters of the cross-process rate limiter
 * (hub/pg-rate-limit.ts). Windows are cut from the database's clock, not each machine's.
 */
import type { Knex } from 'knex';

export interface TakeRow {
  /** The window's count after this increment. */
  count: number;
  /** Milliseconds left in the window. */
  remaining_ms: number;
}

/**
 * `statement_timestamp()` is fixed for the statement, so the window start, its expiry and
 * the time left are computed from one instant. The epoch arithmetic is in milliseconds as
 * float8, exact far beyond any real date.
 */
const TAKE_SQL = `
  with slot as (
    select to_timestamp((ms - ms::numeric % :windowMs) / 1000.0) as window_start
    from (select extract(epoch from statement_timestamp()) * 1000 as ms) now
  )
  insert into rate_limit_windows as w (key, window_start, expires_at, count)
  select :key, window_start, window_start + make_interval(secs => :windowMs / 1000.0), :n from slot
  on conflict (key, window_start) do update set count = w.count + :n
  returning w.count, ceil(extract(epoch from w.expires_at - statement_timestamp()) * 1000)::float8 as remaining_ms`;

/**
 * Increments the counter of `key`'s current window in one upsert. Row locking serialises
 * concurrent increments of one window, so at most `limit` callers see a count within it.
 */
export async function takeWindowSlot(db: Knex, key: string, windowMs: number): Promise<TakeRow | undefined> {
  const result = await db.raw<{ rows: TakeRow[] }>(TAKE_SQL, { key, windowMs, n: 1 });
  return result.rows[0];
}

/**
 * Takes up to `n` slots of `key`'s current window at once, of `limit` in all: how many were
 * granted (fewer than `n` once the window is spent) and the milliseconds left in it. The
 * same upsert as {@link takeWindowSlot}; what was granted is what fitted under the limit.
 */
export async function takeWindowSlots(
  db: Knex,
  key: string,
  windowMs: number,
  n: number,
  limit: number,
): Promise<{ granted: number; remainingMs: number }> {
  const result = await db.raw<{ rows: TakeRow[] }>(TAKE_SQL, { key, windowMs, n });
  const row = result.rows[0];
  if (!row) throw new Error(`rate limit windows: the upsert for ${key} returned no row`);
  const granted = Math.min(n, Math.max(0, limit - (row.count - n)));
  return { granted, remainingMs: Math.max(1, row.remaining_ms) };
}

/** Deletes expired windows, through the expiry index. */
export async function deleteExpiredWindows(db: Knex): Promise<void> {
  await db.raw('delete from rate_limit_windows where expires_at < statement_timestamp()');
}
