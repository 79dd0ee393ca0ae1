import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { type Api, problemOf, startApi } from './harness.ts';

const t = useTestDatabase();
let api: Api;
let admin: string;

beforeAll(async () => {
  api = await startApi(t.db);
  admin = await api.token({ admin: true, sub: 'operator' });
});
afterAll(() => api?.close());

describe('tenant management (admin only)', () => {
  it('creates, reads, lists and updates tenants, auditing each change', async () => {
    const created = await api.call('POST', '/v1/tenants', {
      token: admin,
      body: { id: 'acme', name: 'Acme', config: { region: 'eu' } },
      headers: { 'x-request-id': 'req-create-acme' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/v1/tenants/acme');
    expect(created.headers.get('x-request-id')).toBe('req-create-acme');
    expect(await created.json()).toMatchObject({
      id: 'acme',
      name: 'Acme',
      status: 'active',
      config: { region: 'eu' },
    });

    const got = await api.call('GET', '/v1/tenants/acme', { token: admin });
    expect(got.status).toBe(200);

    const patched = await api.call('PATCH', '/v1/tenants/acme', {
      token: admin,
      body: { status: 'disabled' },
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ id: 'acme', status: 'disabled' });

    const rows = await t.db('audit_log').whereNull('tenant_id').orderBy('id');
    expect(rows.map((r) => [r.action, r.entity_id, r.actor, r.status, r.result])).toEqual([
      ['tenants.create', 'acme', 'operator', 201, 'ok'],
      ['tenants.update', 'acme', 'operator', 200, 'ok'],
    ]);
    expect(rows[0].request_id).toBe('req-create-acme');
    expect(rows[0].summary).toEqual({ body: { id: 'acme', name: 'Acme', config: { region: 'eu' } } });
  });

  it('pages through tenants with a cursor and filters by status', async () => {
    for (const id of ['t-1', 't-2', 't-3']) {
      expect((await api.call('POST', '/v1/tenants', { token: admin, body: { id, name: id } })).status).toBe(
        201,
      );
    }
    const first = await api.call('GET', '/v1/tenants?limit=2&status=active', { token: admin });
    const page1 = (await first.json()) as { items: Array<{ id: string }>; nextCursor?: string };
    expect(page1.items.map((x) => x.id)).toEqual(['t-1', 't-2']);
    const second = await api.call('GET', `/v1/tenants?limit=2&status=active&cursor=${page1.nextCursor}`, {
      token: admin,
    });
    const page2 = (await second.json()) as { items: Array<{ id: string }>; nextCursor?: string };
    expect(page2.items.map((x) => x.id)).toEqual(['t-3']);
    expect(page2.nextCursor).toBeUndefined();
    const bad = await api.call('GET', '/v1/tenants?cursor=bm9wZQ', { token: admin });
    expect((await problemOf(bad)).status).toBe(400);
  });

  it('answers 409 for a taken id and 404 for an unknown tenant, and audits the refusal', async () => {
    const again = await api.call('POST', '/v1/tenants', { token: admin, body: { id: 't-1', name: 'again' } });
    expect((await problemOf(again)).status).toBe(409);
    const missing = await api.call('PATCH', '/v1/tenants/nobody', { token: admin, body: { name: 'x' } });
    expect((await problemOf(missing)).status).toBe(404);
    expect((await api.call('GET', '/v1/tenants/nobody', { token: admin })).status).toBe(404);
    const refusals = await t.db('audit_log').where({ result: 'error' }).orderBy('id');
    expect(refusals.map((r) => [r.action, r.entity_id, r.status])).toEqual([
      ['tenants.create', null, 409],
      ['tenants.update', 'nobody', 404],
    ]);
  });

  it('validates bodies: 422 with the field named', async () => {
    const res = await api.call('POST', '/v1/tenants', { token: admin, body: { id: 'Bad Id!', name: 5 } });
    const p = await problemOf(res);
    expect(p.status).toBe(422);
    expect(p.errors).toEqual(
      expect.arrayContaining([
        { pointer: '/id', message: expect.stringContaining('pattern') },
        { pointer: '/name', message: 'must be string' },
      ]),
    );
    const empty = await api.call('PATCH', '/v1/tenants/t-1', { token: admin, body: {} });
    expect((await problemOf(empty)).status).toBe(422);
  });

  it('refuses tokens without the admin role (403) and calls without a token (401)', async () => {
    const tenantToken = await api.token({ tenants: ['t-1'] });
    expect((await problemOf(await api.call('GET', '/v1/tenants', { token: tenantToken }))).status).toBe(403);
    expect(
      (
        await problemOf(
          await api.call('POST', '/v1/tenants', { token: tenantToken, body: { id: 'x', name: 'x' } }),
        )
      ).status,
    ).toBe(403);
    const anonymous = await api.call('GET', '/v1/tenants');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="atlas"');
  });

  it('refuses a disabled tenant at once on this process', async () => {
    const token = await api.token({ tenants: ['t-2'] });
    expect((await api.call('GET', '/v1/audit', { token, tenant: 't-2' })).status).toBe(200);
    await api.call('PATCH', '/v1/tenants/t-2', { token: admin, body: { status: 'disabled' } });
    const refused = await problemOf(await api.call('GET', '/v1/audit', { token, tenant: 't-2' }));
    expect(refused).toMatchObject({ status: 403, detail: 'Tenant "t-2" does not exist or is disabled.' });
  });
});
