import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { type ApiEngine, startApiEngine } from './engine.ts';

const VALUE = 'shapeless-Value-7Qm2vX9pL4';

describe('/v1/secrets', () => {
  const database = useTestDatabase();
  let api: ApiEngine;
  beforeAll(async () => {
    api = await startApiEngine(database);
  });
  afterAll(async () => {
    await api?.stop();
  });

  const audits = (action: string) =>
    database
      .db('audit_log')
      .where({ action })
      .orderBy('id')
      .select('tenant_id', 'status', 'result', 'summary');

  it('creates (201), replaces (204) and never answers with the value', async () => {
    const created = await api.call('PUT', '/v1/secrets/PARTNER_KEY', { body: { value: VALUE } });
    expect(created.status).toBe(201);
    expect(await created.text()).toBe('');
    const replaced = await api.call('PUT', '/v1/secrets/PARTNER_KEY', { body: { value: `${VALUE}-2` } });
    expect(replaced.status).toBe(204);
    expect(await api.engine.services.secrets.get('acme', 'PARTNER_KEY')).toBe(`${VALUE}-2`);
    const row = await database.db('tenant_secrets').where({ tenant_id: 'acme', name: 'PARTNER_KEY' }).first();
    expect(row.ciphertext).toMatch(/^v1:/);
    expect(row.ciphertext).not.toContain(VALUE);
  });

  it('lists names, key ids and dates only, per tenant', async () => {
    await api.call('PUT', '/v1/secrets/OTHER', { body: { value: VALUE } });
    const res = await api.call('GET', '/v1/secrets');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(VALUE);
    const { items } = JSON.parse(text) as { items: Array<Record<string, unknown>> };
    expect(items.map((i) => i.name)).toEqual(['OTHER', 'PARTNER_KEY']);
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(['createdAt', 'keyId', 'name', 'updatedAt']);
      expect(Date.parse(String(item.updatedAt))).toBeGreaterThanOrEqual(Date.parse(String(item.createdAt)));
    }
    const globex = await (await api.call('GET', '/v1/secrets', { tenant: 'globex' })).json();
    expect(globex).toEqual({ items: [] });
  });

  it('audits every write with the value redacted, failed writes included', async () => {
    const invalid = await api.call('PUT', '/v1/secrets/PARTNER_KEY', { body: { value: VALUE, extra: 1 } });
    expect(invalid.status).toBe(422);
    expect(await invalid.text()).not.toContain(VALUE);
    const rows = await audits('secrets.put');
    expect(rows.map((r) => [r.status, r.result])).toEqual([
      [201, 'ok'],
      [204, 'ok'],
      [201, 'ok'],
      [422, 'error'],
    ]);
    expect(rows[0]).toMatchObject({
      tenant_id: 'acme',
      summary: { params: { name: 'PARTNER_KEY' }, body: { value: '[REDACTED]' } },
    });
    expect(JSON.stringify(rows)).not.toContain(VALUE);
  });

  it('deletes (204), then 404; a step reading it afterwards finds nothing', async () => {
    expect((await api.call('DELETE', '/v1/secrets/OTHER')).status).toBe(204);
    expect((await api.call('DELETE', '/v1/secrets/OTHER')).status).toBe(404);
    expect(await api.engine.services.secrets.get('acme', 'OTHER')).toBeUndefined();
    const rows = await audits('secrets.delete');
    expect(rows.map((r) => [r.status, r.result])).toEqual([
      [204, 'ok'],
      [404, 'error'],
    ]);
  });

  it('refuses bad names, bad bodies, other tenants and missing tokens', async () => {
    expect((await api.call('PUT', '/v1/secrets/9lives', { body: { value: 'x' } })).status).toBe(404);
    expect((await api.call('PUT', '/v1/secrets/EMPTY', { body: { value: '' } })).status).toBe(422);
    expect((await api.call('PUT', '/v1/secrets/NUMBER', { body: { value: 42 } })).status).toBe(422);
    expect((await api.call('PUT', '/v1/secrets/NONE')).status).toBe(400);
    expect((await api.call('GET', '/v1/secrets', { tenant: 'initech' })).status).toBe(403);
    expect((await fetch(`${api.url}/v1/secrets`, { headers: { 'x-tenant-id': 'acme' } })).status).toBe(401);
    // A secret of one tenant is another tenant's 404.
    expect((await api.call('DELETE', '/v1/secrets/PARTNER_KEY', { tenant: 'globex' })).status).toBe(404);
  });

  it('is in a valid OpenAPI document, with no value in any response', async () => {
    const doc = (await (await fetch(`${api.url}/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: unknown }> }>>;
    };
    const result = await validate(structuredClone(doc) as unknown as Parameters<typeof validate>[0]);
    expect(result.valid ? '' : compileErrors(result)).toBe('');
    expect(result.warnings).toEqual([]);
    expect(Object.keys(doc.paths['/v1/secrets/{name}'] ?? {}).sort()).toEqual(['delete', 'put']);
    expect(doc.paths['/v1/secrets/{name}']!.put!.responses['201']!.content).toBeUndefined();
    expect(JSON.stringify(doc.paths['/v1/secrets']!.get!.responses['200'])).not.toContain('"value"');
  });
});
