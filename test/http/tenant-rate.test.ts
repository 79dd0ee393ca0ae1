/**
 * Per-tenant API request rate: over its limit a tenant gets 429 problem+json with
 * `Retry-After`, counted over every API process on the database; other tenants are untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { type Api, problemOf, startApi } from './harness.ts';

const t = useTestDatabase();
let one: Api;
let two: Api;
let acme: string;
let globex: string;
let admin: string;

beforeAll(async () => {
  await t.db('tenants').insert([
    { id: 'acme', name: 'Acme', settings: JSON.stringify({ limits: { requestsPerSecond: 3 } }) },
    { id: 'globex', name: 'Globex' },
  ]);
  one = await startApi(t.db);
  two = await startApi(t.db);
  acme = await one.token({ tenants: ['acme'] });
  globex = await one.token({ tenants: ['globex'] });
  admin = await one.token({ admin: true });
});
afterAll(async () => {
  await one?.close();
  await two?.close();
});

const burst = (api: Api, token: string, tenant: string, n: number) =>
  Promise.all(Array.from({ length: n }, () => api.call('GET', '/v1/workflows', { token, tenant })));

describe('the per-tenant request rate', () => {
  it('answers 429 with Retry-After past the limit, shared by every API process', async () => {
    const answers = (await Promise.all([burst(one, acme, 'acme', 15), burst(two, acme, 'acme', 15)])).flat();
    const ok = answers.filter((r) => r.status === 200).length;
    // 3 a second; a burst may straddle one window's end, never more.
    expect(ok).toBeGreaterThanOrEqual(3);
    expect(ok).toBeLessThanOrEqual(6);
    const refused = answers.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = await problemOf(refused);
    expect(body.status).toBe(429);
    expect(body.detail).toMatch(/acme.*3 requests per second/);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const [again] = await burst(one, acme, 'acme', 1);
    expect(again!.status).toBe(200);
  });

  it("leaves other tenants alone, and refuses a limit that doesn't fit", async () => {
    const answers = await burst(one, globex, 'globex', 30);
    expect(answers.map((r) => r.status)).toEqual(Array(30).fill(200));
    const res = await one.call('PUT', '/v1/tenants/globex/settings', {
      token: admin,
      body: { limits: { runsInFlight: 0 } },
    });
    expect(res.status).toBe(422);
  });
});
