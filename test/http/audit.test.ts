import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAudit } from '../../engine/db/audit.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { type Api, problemOf, startApi } from './harness.ts';

const t = useTestDatabase();
let api: Api;
let token: string;

interface Entry {
  id: number;
  action: string;
  entityId: string;
  actor: string;
  tenantId: string;
}

beforeAll(async () => {
  api = await startApi(t.db);
  await t.db('tenants').insert([
    { id: 'acme', name: 'Acme' },
    { id: 'globex', name: 'Globex' },
  ]);
  token = await api.token({ tenants: ['acme'] });
  for (let i = 0; i < 5; i++) {
    await recordAudit(t.db, {
      tenantId: 'acme',
      actor: i % 2 ? 'bob' : 'alice',
      action: i < 3 ? 'runs.trigger' : 'jobs.enqueue',
      entityType: i < 3 ? 'run' : 'job',
      entityId: `e${i}`,
      result: 'ok',
      summary: { apiKey: 'sk_live_abcdefghijklmnop' },
    });
  }
  await recordAudit(t.db, {
    tenantId: 'globex',
    actor: 'gus',
    action: 'runs.trigger',
    entityType: 'run',
    result: 'ok',
  });
});
afterAll(() => api?.close());

const list = async (query: string) => {
  const res = await api.call('GET', `/v1/audit${query}`, { token, tenant: 'acme' });
  expect(res.status).toBe(200);
  return (await res.json()) as { items: Entry[]; nextCursor?: string };
};

describe('GET /v1/audit', () => {
  it('lists the tenant’s entries newest first, redacted', async () => {
    const { items } = await list('');
    expect(items.map((e) => e.entityId)).toEqual(['e4', 'e3', 'e2', 'e1', 'e0']);
    expect(items.every((e) => e.tenantId === 'acme')).toBe(true);
    expect(JSON.stringify(items)).not.toContain('sk_live');
  });

  it('filters by action, entity and actor, and by time', async () => {
    expect((await list('?action=jobs.enqueue')).items.map((e) => e.entityId)).toEqual(['e4', 'e3']);
    expect((await list('?entityType=run&actor=bob')).items.map((e) => e.entityId)).toEqual(['e1']);
    expect((await list('?entityId=e2')).items).toHaveLength(1);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await list(`?since=${future}`)).items).toEqual([]);
    expect((await list(`?until=${future}`)).items).toHaveLength(5);
  });

  it('pages with an opaque cursor', async () => {
    const first = await list('?limit=2');
    expect(first.items.map((e) => e.entityId)).toEqual(['e4', 'e3']);
    const second = await list(`?limit=2&cursor=${first.nextCursor}`);
    expect(second.items.map((e) => e.entityId)).toEqual(['e2', 'e1']);
    const third = await list(`?limit=2&cursor=${second.nextCursor}`);
    expect(third.items.map((e) => e.entityId)).toEqual(['e0']);
    expect(third.nextCursor).toBeUndefined();
  });

  it('refuses bad filters with 400', async () => {
    for (const query of [
      '?limit=500',
      '?since=now',
      '?cursor=Zm9v',
      '?since=2024-13-01T00:00:00Z',
      '?verb=x',
    ]) {
      const res = await api.call('GET', `/v1/audit${query}`, { token, tenant: 'acme' });
      expect([query, (await problemOf(res)).status]).toEqual([query, 400]);
    }
  });
});
