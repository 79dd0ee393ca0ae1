/**
 * The cross-process rate limiter: the fixed windows of {@link MemoryRateLimiter}, counted in
 * PostgreSQL (`rate_limit_windows`), so every worker on every machine spends one quota.
 *
 * One statement takes a slot: an upsert that increments the window's counter and returns it
 * with the time left in the window. Row locking serialises concurrent increments of one
 * window, so at most `limit` callers ever see a count within the limit. Windows are cut from
 * the database's clock, not each machine's, so processes whose clocks drift still agree.
 */
import type { Knex } from 'knex';
import type { RateLimit } from '../connector-sdk/index.ts';
import { deleteExpiredWindows, takeWindowSlot } from '../db/rate-limit-windows.ts';
import { type RateLimiter, sleep } from './rate-limit.ts';

export interface PgRateLimiterOptions {
  /** How often (at most) one limiter deletes expired windows; 60 s by default. */
  sweepEveryMs?: number;
}

export class PgRateLimiter implements RateLimiter {
  private readonly sweepEveryMs: number;
  private nextSweepAt = 0;

  constructor(
    private readonly db: Knex,
    opts: PgRateLimiterOptions = {},
  ) {
    this.sweepEveryMs = opts.sweepEveryMs ?? 60_000;
  }

  async acquire(key: string, limit: RateLimit, signal: AbortSignal): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      const waitMs = await this.tryTake(key, limit);
      if (waitMs === 0) return;
      await sleep(waitMs, signal);
    }
  }

  /**
   * Takes a slot and returns 0, or returns how long until the current window ends. A refused
   * call still increments the counter: harmless, since only `count <= limit` grants, and it
   * keeps the statement a single upsert.
   */
  private async tryTake(key: string, limit: RateLimit): Promise<number> {
    await this.sweepWhenDue();
    // The limit and window are part of the counter key: two limits on one key (30/s and
    // 1000/min) count apart, as in the memory limiter.
    const counterKey = `${key}@${limit.limit}/${limit.windowMs}`;
    const row = await takeWindowSlot(this.db, counterKey, limit.windowMs);
    if (!row) throw new Error(`rate limiter: the upsert for ${key} returned no row`);
    return row.count <= limit.limit ? 0 : Math.max(1, row.remaining_ms);
  }

  /**
   * Expired windows are deleted by whichever limiter comes due first, through the expiry
   * index: one short statement per minute per process, however many keys were used.
   */
  private async sweepWhenDue(): Promise<void> {
    const now = Date.now();
    if (now < this.nextSweepAt) return;
    this.nextSweepAt = now + this.sweepEveryMs;
    await deleteExpiredWindows(this.db);
  }
}
