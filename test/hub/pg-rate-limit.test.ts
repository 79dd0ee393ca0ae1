import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Knex, makeDb } from '../../engine/db/knex.ts';
import { PgRateLimiter } from '../../engine/hub/pg-rate-limit.ts';
import { MemoryRateLimiter, type RateLimiter, sleep } from '../../engine/hub/rate-limit.ts';
import { useTestDatabase } from '../helpers/db.ts';

/** Fires `calls` acquires on each limiter at once; returns when each was granted (ms epoch). */
async function grantTimes(limiters: RateLimiter[], key: string, windowMs: number, calls: number) {
  const limit = { limit: 3, windowMs };
  // Start just after a window boundary, so no first grant straddles one.
  await sleep(windowMs - (Date.now() % windowMs) + 15);
  const signal = AbortSignal.timeout(20_000);
  const grants = limiters.flatMap((limiter) =>
    Array.from({ length: calls }, () => limiter.acquire(key, limit, signal).then(() => Date.now())),
  );
  return Promise.all(grants);
}

function perWindow(times: number[], windowMs: number): number[] {
  const counts = new Map<number, number>();
  for (const t of times)
    counts.set(Math.floor(t / windowMs), (counts.get(Math.floor(t / windowMs)) ?? 0) + 1);
  return [...counts.values()];
}

describe('PgRateLimiter', () => {
  const database = useTestDatabase();
  // Two pools, as two worker processes would have.
  let second: Knex;
  beforeAll(() => {
    second = makeDb(database.url, { poolSize: 5 });
  });
  afterAll(async () => {
    await second?.destroy();
  });

  it('lets two processes together take at most `limit` calls per window, and makes the rest wait', async () => {
    const windowMs = 400;
    const limiters = [new PgRateLimiter(database.db), new PgRateLimiter(second)];
    const started = Date.now();
    const times = await grantTimes(limiters, 'telegram:abc:*', windowMs, 6);
    expect(times).toHaveLength(12);
    expect(Math.max(...perWindow(times, windowMs))).toBeLessThanOrEqual(3);
    // 12 calls at 3 per window span at least four windows: three boundaries waited for.
    expect(Math.max(...times) - started).toBeGreaterThanOrEqual(3 * windowMs);
  });

  it('is what two in-memory limiters are not: shared (the check above can fail)', async () => {
    const windowMs = 400;
    const times = await grantTimes([new MemoryRateLimiter(), new MemoryRateLimiter()], 'k', windowMs, 6);
    expect(Math.max(...perWindow(times, windowMs))).toBeGreaterThan(3);
  });

  it('counts two limits on one key apart', async () => {
    const limiter = new PgRateLimiter(database.db);
    const signal = AbortSignal.timeout(5000);
    await limiter.acquire('stripe:x:*', { limit: 1, windowMs: 60_000 }, signal);
    await limiter.acquire('stripe:x:*', { limit: 1, windowMs: 3_600_000 }, signal);
    const rows = await database.db('rate_limit_windows').where('key', 'like', 'stripe:x:*@%').select('key');
    expect(rows.map((r) => r.key).sort()).toEqual(['stripe:x:*@1/3600000', 'stripe:x:*@1/60000']);
  });

  it("aborts a waiting call with its signal's reason, in another process too", async () => {
    const limit = { limit: 1, windowMs: 60_000 };
    await new PgRateLimiter(database.db).acquire('openai:k:*', limit, AbortSignal.timeout(5000));
    const controller = new AbortController();
    const started = Date.now();
    const waiting = new PgRateLimiter(second).acquire('openai:k:*', limit, controller.signal);
    setTimeout(() => controller.abort(new Error('step cancelled')), 100);
    await expect(waiting).rejects.toThrow('step cancelled');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('deletes expired windows when its sweep is due, and keeps live ones', async () => {
    await database.db('rate_limit_windows').insert({
      key: 'old:x:*@1/1000',
      window_start: new Date(Date.now() - 120_000),
      expires_at: new Date(Date.now() - 119_000),
      count: 1,
    });
    const limiter = new PgRateLimiter(database.db, { sweepEveryMs: 60_000 });
    await limiter.acquire('new:x:*', { limit: 5, windowMs: 60_000 }, AbortSignal.timeout(5000));
    const keys = (await database.db('rate_limit_windows').select('key')).map((r) => r.key);
    expect(keys).not.toContain('old:x:*@1/1000');
    expect(keys).toContain('new:x:*@5/60000');
  });
});
