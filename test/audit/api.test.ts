import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAudit } from '../../engine/db/audit.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { type Api, problemOf, startApi } from '../http/harness.ts';
import { rewriteAndRechain, tamper } from './tamper.ts';

const t = useTestDatabase();
let api: Api;
let token: string;

beforeAll(async () => {
  api = await startApi(t.db);
  await t.db('tenants').insert(['acme', 'globex', 'initech'].map((id) => ({ id, name: id })));
  token = await api.token({ tenants: ['acme', 'globex', 'initech'] });
  for (let i = 0; i < 3; i++) {
    for (const tenantId of ['acme', 'globex', 'initech']) {
      await recordAudit(t.db, {
        tenantId,
        actor: 'ada',
        action: 'x.y',
        entityType: 'x',
        result: 'ok',
        summary: { i },
      });
    }
  }
});
afterAll(() => api?.close());

const verify = async (tenant: string, query = '') => {
  const res = await api.call('GET', `/v1/audit/verify${query}`, { token, tenant });
  expect(res.status).toBe(200);
  return (await res.json()) as {
    ok: boolean;
    rows: number;
    head: { seq: number; hash: string } | null;
    problem?: { kind: string; seq: number; id: number | null };
  };
};

describe('GET /v1/audit/verify', () => {
  it("verifies the tenant's own chain and gives its head to keep", async () => {
    const run = await api.call('POST', '/v1/workflows/WF-001/runs', {
      token,
      tenant: 'acme',
      body: { input: { name: 'Ada' } },
    });
    expect(run.status).toBe(202);
    const report = await verify('acme');
    expect(report).toMatchObject({ ok: true, head: { seq: report.rows } });
    expect(report.rows).toBe(4);
    expect(report.head!.hash).toMatch(/^[0-9a-f]{64}$/);
    const page = await api.call('GET', '/v1/audit?limit=1', { token, tenant: 'acme' });
    const [newest] = ((await page.json()) as { items: unknown[] }).items;
    expect(newest).toMatchObject({ seq: 4, hash: report.head!.hash, erasedAt: null });
  });

  it('names an edited row of the tenant and leaves the others intact', async () => {
    const row = await t.db('audit_log').where({ tenant_id: 'globex', seq: 2 }).first('id');
    await tamper(t.db, `update audit_log set result = 'error' where id = ?`, [row.id]);
    expect(await verify('globex')).toMatchObject({
      ok: false,
      problem: { kind: 'edited', seq: 2, id: Number(row.id) },
    });
    expect((await verify('initech')).ok).toBe(true);
  });

  it('checks an anchor the tenant kept, and refuses a malformed one', async () => {
    const { head } = await verify('initech');
    await rewriteAndRechain(t.db, 'initech', 1, { actor: 'mallory' });
    expect((await verify('initech')).ok).toBe(true);
    const checked = await verify('initech', `?anchorSeq=${head!.seq}&anchorHash=${head!.hash}`);
    expect(checked).toMatchObject({ ok: false, problem: { kind: 'rewritten', seq: head!.seq } });
    for (const query of [
      '?anchorSeq=3',
      '?anchorSeq=0&anchorHash=' + 'a'.repeat(64),
      '?anchorSeq=1&anchorHash=xyz',
    ]) {
      const res = await api.call('GET', `/v1/audit/verify${query}`, { token, tenant: 'initech' });
      expect([query, (await problemOf(res)).status]).toEqual([query, 400]);
    }
  });
});
