import { describe, expect, it } from 'vitest';
import { credentialFingerprint, MemoryRateLimiter, resolveRateLimits } from '../../engine/hub/rate-limit.ts';
import { parseRetryAfter } from '../../engine/hub/retry-after.ts';

describe('resolveRateLimits', () => {
  it('renders per-key limits from the input and filters by action', () => {
    const limits = [
      { limit: 30, windowMs: 1000 },
      { limit: 1, windowMs: 1000, key: 'chat:{{ chat_id }}', actions: ['sendMessage'] },
    ];
    const scope = { connectorId: 'telegram', credentialId: 'abc', input: { chat_id: 42 } };
    expect(resolveRateLimits(limits, { ...scope, actionId: 'sendMessage' }).map((l) => l.key)).toEqual([
      'telegram:abc:*',
      'telegram:abc:chat:42',
    ]);
    expect(resolveRateLimits(limits, { ...scope, actionId: 'setWebhook' })).toHaveLength(1);
  });

  it('fingerprints credentials without revealing them', () => {
    const fp = credentialFingerprint('sk_live_secret');
    expect(fp).toHaveLength(16);
    expect(fp).not.toContain('secret');
    expect(credentialFingerprint('sk_live_secret')).toBe(fp);
  });
});

describe('MemoryRateLimiter', () => {
  it('lets `limit` calls through per window and makes the next one wait for the window', async () => {
    let now = 1_000_000;
    const limiter = new MemoryRateLimiter(() => now);
    const limit = { limit: 2, windowMs: 50 };
    const signal = AbortSignal.timeout(2000);
    await limiter.acquire('k', limit, signal);
    await limiter.acquire('k', limit, signal);
    let third = false;
    const pending = limiter.acquire('k', limit, signal).then(() => {
      third = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(third).toBe(false);
    now += 50;
    await pending;
    expect(third).toBe(true);
  });

  it('keeps keys apart and gives up when the step is aborted', async () => {
    const limiter = new MemoryRateLimiter(() => 0);
    const limit = { limit: 1, windowMs: 60_000 };
    await limiter.acquire('a', limit, AbortSignal.timeout(1000));
    await limiter.acquire('b', limit, AbortSignal.timeout(1000));
    await expect(limiter.acquire('a', limit, AbortSignal.timeout(30))).rejects.toMatchObject({
      name: 'TimeoutError',
    });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds, dates and rejects junk', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
