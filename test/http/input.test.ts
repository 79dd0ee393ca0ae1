/**
 * Hostile and careless input: malformed JSON, wrong content types, oversized bodies, wrong
 * field types, and fuzzed bodies and query strings. Every refusal is a 4xx problem+json;
 * nothing yields a 5xx.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { type Api, problemOf, startApi } from './harness.ts';

const t = useTestDatabase();
let api: Api;
let token: string;
let admin: string;

beforeAll(async () => {
  api = await startApi(t.db, { ATLAS_BODY_LIMIT: '2kb' });
  await t.db('tenants').insert({ id: 'acme', name: 'Acme' });
  token = await api.token({ tenants: ['acme'] });
  admin = await api.token({ admin: true });
});
afterAll(() => api?.close());

const post = (body: string, headers: Record<string, string> = {}) =>
  api.call('POST', '/v1/workflows/WF-001/runs', { token, tenant: 'acme', body, headers });

describe('request bodies', () => {
  it.each([
    ['malformed JSON', '{"input": {"name": "Ada"', {}, 400],
    ['a JSON type other than the schema’s', '[1, 2]', {}, 422],
    ['a wrong field type', '{"input": {"name": 7}}', {}, 422],
    ['an unknown field', '{"inptu": {}}', {}, 422],
    ['text/plain', '{"input": {}}', { 'content-type': 'text/plain' }, 415],
    ['form encoding', 'input=1', { 'content-type': 'application/x-www-form-urlencoded' }, 415],
    ['a non-UTF-8 charset', '{"input": {}}', { 'content-type': 'application/json; charset=latin1' }, 415],
    ['an oversized body', JSON.stringify({ input: { name: 'x'.repeat(3000) } }), {}, 413],
  ])('refuses %s', async (_name, body, headers, status) => {
    const res = await post(body, headers);
    const p = await problemOf(res);
    expect(p.status).toBe(status);
    expect(p).toMatchObject({ type: 'about:blank', instance: '/v1/workflows/WF-001/runs' });
  });

  it('accepts +json media types and a charset of utf-8', async () => {
    const res = await post('{"input": {"name": "Ada"}}', {
      'content-type': 'application/merge-patch+json; charset=UTF-8',
    });
    expect(res.status).toBe(202);
  });

  it('refuses a missing body where one is required (400), and allows it where optional', async () => {
    const res = await api.call('POST', '/v1/tenants', { token: admin });
    expect((await problemOf(res)).status).toBe(400);
    const run = await api.call('POST', '/v1/workflows/WF-002/runs', { token, tenant: 'acme' });
    expect(run.status).toBe(202);
  });

  it('answers 405 with Allow for a known path and 404 for an unknown one', async () => {
    const res = await api.call('DELETE', '/v1/tenants', { token: admin });
    expect((await problemOf(res)).status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST');
    expect((await problemOf(await api.call('GET', '/v1/nothing', { token }))).status).toBe(404);
  });

  it('never answers 5xx to fuzzed bodies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.json(),
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify({ input: v })),
        ),
        fc.constantFrom('/v1/workflows/WF-001/runs', '/v1/jobs', '/v1/agents/helper/run', '/v1/tenants'),
        async (body, path) => {
          const res = await api.call('POST', path, {
            token: path === '/v1/tenants' ? admin : token,
            tenant: 'acme',
            body,
          });
          await res.arrayBuffer();
          expect(res.status).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('never answers 5xx to fuzzed query strings and path ids', async () => {
    const value = fc.oneof(
      fc.string(),
      fc.integer().map(String),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    );
    const names = fc.constantFrom(
      'limit',
      'cursor',
      'status',
      'since',
      'until',
      'workflowId',
      'action',
      'tenantId',
      'x',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          '/v1/runs',
          '/v1/audit',
          '/v1/tenants',
          '/v1/workflows',
          '/v1/runs/',
          '/v1/jobs/',
          '/v1/tenants/',
        ),
        fc.array(fc.tuple(names, value), { maxLength: 4 }),
        fc.string(),
        async (path, pairs, id) => {
          const query = new URLSearchParams(pairs).toString();
          const target = `${path.endsWith('/') ? path + encodeURIComponent(id || 'x') : path}?${query}`;
          const res = await api.call('GET', target, {
            token: path.includes('tenants') ? admin : token,
            tenant: 'acme',
          });
          await res.arrayBuffer();
          expect([target, res.status < 500]).toEqual([target, true]);
        },
      ),
      { numRuns: 200 },
    );
  });
});
