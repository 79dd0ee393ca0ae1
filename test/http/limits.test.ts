/**
 * JSON nested deeper than the parse limit on the API: a 400 problem+json on every route
 * that reads a body, never a 500, and the server keeps serving. A body nested to exactly the
 * limit still goes all the way through (validation, audit, the database).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkJsonLimits, JsonLimitError, MAX_JSON_DEPTH, parseJson } from '../../engine/json/limits.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { type Api, problemOf, startApi } from './harness.ts';

const t = useTestDatabase();
let api: Api;
let token: string;
let admin: string;

const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const deepObject = (depth: number) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);

beforeAll(async () => {
  api = await startApi(t.db);
  await t.db('tenants').insert({ id: 'acme', name: 'Acme' });
  token = await api.token({ tenants: ['acme'] });
  admin = await api.token({ admin: true });
});
afterAll(() => api?.close());

describe('the JSON parse limits', () => {
  it('measure depth iteratively, strings and escapes included', () => {
    expect(() => checkJsonLimits(deepArray(MAX_JSON_DEPTH))).not.toThrow();
    expect(() => checkJsonLimits(deepArray(MAX_JSON_DEPTH + 1))).toThrow(JsonLimitError);
    expect(() => checkJsonLimits(deepArray(1_000_000))).toThrow(/deeper than 64 levels/);
    // Brackets inside strings do not nest, and an escaped quote does not end a string.
    expect(parseJson(JSON.stringify({ a: '['.repeat(500), b: '"[[[[\\' }))).toMatchObject({ b: '"[[[[\\' });
    expect(() => parseJson('{"a": 1}', { maxLength: 4 })).toThrow(/more than 4/);
    const bytes = new TextEncoder().encode(`{"é€😀": ${deepArray(MAX_JSON_DEPTH + 1)}}`);
    expect(() => checkJsonLimits(bytes)).toThrow(JsonLimitError);
  });
});

describe('deeply nested request bodies', () => {
  const routes: Array<[string, string, string | undefined]> = [
    ['PUT', '/v1/workflows/WF-001/enabled', 'acme'],
    ['POST', '/v1/workflows/WF-001/runs', 'acme'],
    ['POST', '/v1/jobs', 'acme'],
    ['POST', '/v1/agents/helper/run', 'acme'],
    ['POST', '/v1/tenants', undefined],
  ];

  it.each(routes)('%s %s: 8,000 levels is a 400 problem+json', async (method, path, tenant) => {
    for (const body of [deepArray(8000), deepObject(8000), `{"input": ${deepObject(8000)}}`]) {
      const res = await api.call(method, path, { token: tenant ? token : admin, tenant, body });
      const p = await problemOf(res);
      expect(p.status).toBe(400);
      expect(p.detail).toMatch(/nested deeper than 64 levels/);
    }
  });

  it('keeps serving, and accepts a body nested to exactly the limit', async () => {
    const input = JSON.parse(deepObject(MAX_JSON_DEPTH - 2)) as Record<string, unknown>;
    const res = await api.call('POST', '/v1/workflows/WF-001/runs', {
      token,
      tenant: 'acme',
      body: { input: { name: 'Ada', deep: input } },
    });
    expect(res.status).toBe(202);
    const audit = await api.call('GET', '/v1/audit?limit=1', { token, tenant: 'acme' });
    expect(audit.status).toBe(200);
  });
});
