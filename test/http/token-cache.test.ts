/**
 * The verified-token cache: a token verified once is not verified again until it expires or
 * a minute passes; refusals are never cached, and expiry is checked on every use.
 */
import { describe, expect, it } from 'vitest';
import { mintToken } from '../../engine/auth/mint.ts';
import { cachedVerifier, makeTokenVerifier, type TokenVerifier } from '../../engine/auth/verify.ts';

const SECRET = 'atlas-token-cache-0123456789abcdef';

/** The real verifier, counting the verifications it does. */
function counting(): { verifier: TokenVerifier; calls: () => number } {
  const inner = makeTokenVerifier({
    jwtSecret: SECRET,
    jwksUrl: undefined,
    issuer: undefined,
    audience: undefined,
  })!;
  let calls = 0;
  return {
    verifier: {
      algorithms: inner.algorithms,
      verify(token) {
        calls += 1;
        return inner.verify(token);
      },
    },
    calls: () => calls,
  };
}

describe('cachedVerifier', () => {
  it('verifies a token once and answers the same principal after', async () => {
    const { verifier, calls } = counting();
    const cached = cachedVerifier(verifier);
    const token = await mintToken({ secret: SECRET, sub: 'ada', tenants: ['acme'], ttlSeconds: 300 });
    const principals = await Promise.all(Array.from({ length: 20 }, () => cached.verify(token)));
    for (const p of principals) expect(p).toEqual({ sub: 'ada', tenants: ['acme'], admin: false });
    await cached.verify(token);
    expect(calls()).toBe(1);
    const before = calls();
    for (let i = 0; i < 50; i++) await cached.verify(token);
    expect(calls()).toBe(before);
  });

  it('never caches a refusal, and refuses a cached token once it expired', async () => {
    let now = Date.now();
    const { verifier, calls } = counting();
    const cached = cachedVerifier(verifier, { now: () => now });
    const forged = `${(await mintToken({ secret: SECRET, sub: 'x', tenants: [], ttlSeconds: 60 })).slice(0, -2)}xx`;
    await expect(cached.verify(forged)).rejects.toThrow(/signature/);
    await expect(cached.verify(forged)).rejects.toThrow(/signature/);
    expect(calls()).toBe(2);
    await expect(cached.verify('not.a.jwt')).rejects.toThrow(/malformed/);
    expect(calls()).toBe(3);

    const token = await mintToken({ secret: SECRET, sub: 'ada', tenants: ['acme'], ttlSeconds: 30 });
    await cached.verify(token);
    now += 29_000;
    await cached.verify(token);
    expect(calls()).toBe(4);
    // Past `exp`: not answered from the cache (the real verifier decides, with its clock).
    now += 2_000;
    await cached.verify(token).catch(() => undefined);
    expect(calls()).toBe(5);
  });

  it('verifies again after the cache age, and stays bounded', async () => {
    let now = Date.now();
    const { verifier, calls } = counting();
    const cached = cachedVerifier(verifier, { now: () => now, maxAgeMs: 1_000, maxEntries: 3 });
    const tokens = await Promise.all(
      ['a', 'b', 'c', 'd'].map((sub) => mintToken({ secret: SECRET, sub, tenants: [], ttlSeconds: 300 })),
    );
    for (const t of tokens) await cached.verify(t);
    expect(calls()).toBe(4);
    // 'a' was the oldest of four in a cache of three.
    await cached.verify(tokens[0]!);
    expect(calls()).toBe(5);
    await cached.verify(tokens[3]!);
    expect(calls()).toBe(5);
    now += 1_001;
    await cached.verify(tokens[3]!);
    expect(calls()).toBe(6);
  });
});
