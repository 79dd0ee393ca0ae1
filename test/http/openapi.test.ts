import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { type Api, problemOf, startApi } from './harness.ts';

const t = useTestDatabase();
let api: Api;

beforeAll(async () => {
  api = await startApi(t.db, { ATLAS_METRICS_TOKEN: 'metrics-token-0123456789' });
});
afterAll(() => api?.close());

const ROUTES = [
  'GET /healthz',
  'GET /readyz',
  'GET /v1/openapi.json',
  'GET /metrics',
  'GET /v1/tenants',
  'GET /v1/tenants/{id}',
  'POST /v1/tenants',
  'PATCH /v1/tenants/{id}',
  'GET /v1/workflows',
  'GET /v1/workflows/{id}',
  'PUT /v1/workflows/{id}/enabled',
  'POST /v1/workflows/{id}/runs',
  'GET /v1/runs',
  'GET /v1/runs/{id}',
  'POST /v1/runs/{id}/retry',
  'POST /v1/runs/{id}/restart',
  'POST /v1/runs/{id}/cancel',
  'GET /v1/agents',
  'GET /v1/agents/{id}',
  'POST /v1/agents/{id}/run',
  'POST /v1/jobs',
  'GET /v1/jobs/{id}',
  'GET /v1/audit',
];

describe('GET /v1/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document listing every route', async () => {
    const res = await api.call('GET', '/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as Parameters<typeof validate>[0]);
    expect(result.valid ? '' : compileErrors(result)).toBe('');
    expect(result.warnings).toEqual([]);
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    // Other parts of the engine add their own routes (webhooks, OAuth, secrets) to the table.
    expect(listed).toEqual(expect.arrayContaining(ROUTES));
    expect(new Set(listed).size).toBe(listed.length);
  });

  it('documents the schemas the code validates with', async () => {
    const doc = (await (await api.call('GET', '/v1/openapi.json')).json()) as {
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>
      >;
    };
    const body = doc.paths['/v1/tenants']?.post?.requestBody?.content['application/json']?.schema;
    expect(body).toMatchObject({ required: ['id', 'name'], additionalProperties: false });
  });
});

describe('health and metrics', () => {
  it('keeps /healthz and /readyz open', async () => {
    expect(await (await api.call('GET', '/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await api.call('GET', '/readyz');
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);
  });

  it('serves Prometheus metrics behind ATLAS_METRICS_TOKEN', async () => {
    expect((await problemOf(await api.call('GET', '/metrics'))).status).toBe(401);
    expect((await api.call('GET', '/metrics', { token: 'wrong-token-0123456789' })).status).toBe(401);
    const res = await api.call('GET', '/metrics', { token: 'metrics-token-0123456789' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('atlas_http_requests_total{method="GET",route="/healthz",status="200"}');
    expect(text).toContain('process_cpu_user_seconds_total');
  });
});
