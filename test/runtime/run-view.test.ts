/**
 * run_view (migration 330): the run view in one call, read as the tenant. Through PgBouncer
 * in transaction mode in the `pgbouncer` project.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countQueries } from '../../engine/db/query-counter.ts';
import { withTenant } from '../../engine/db/rls.ts';
import { getRunWithAttempts } from '../../engine/db/runs.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { runRow } from '../helpers/rows.ts';

const database = useTestDatabase();
const acmeRun = randomUUID();
const globexRun = randomUUID();

beforeAll(async () => {
  const { db } = database;
  await db('tenants').insert([
    { id: 'acme', name: 'Acme' },
    { id: 'globex', name: 'Globex' },
  ]);
  await db('manifest_versions').insert({
    hash: 'h-view',
    kind: 'workflow',
    manifest_id: 'WF-X',
    content: '{}',
  });
  const run = (id: string, tenant: string) =>
    runRow(id, tenant, 'h-view', {
      workflow_id: 'WF-X',
      input: { who: tenant },
      lease_owner: null,
      lease_epoch: 0,
      started_at: new Date('2026-01-02T03:04:05.678Z'),
    });
  await db('workflow_runs').insert([run(acmeRun, 'acme'), run(globexRun, 'globex')]);
  await db('step_runs').insert({
    tenant_id: 'acme',
    run_id: acmeRun,
    run_attempt: 1,
    step_id: 'first',
    attempt: 1,
    max_attempts: 1,
    uses: 'core.noop',
    status: 'succeeded',
    input: '{}',
    output: JSON.stringify({ ok: true }),
    finished_at: new Date(),
  });
});

afterAll(async () => {
  const { db } = database;
  await db('step_runs').whereIn('tenant_id', ['acme', 'globex']).delete();
  await db('workflow_runs').whereIn('id', [acmeRun, globexRun]).delete();
  await db('manifest_versions').where({ hash: 'h-view' }).delete();
  await db('tenants').whereIn('id', ['acme', 'globex']).delete();
});

describe('run_view', () => {
  it('reads a run with its attempts in one round trip, timestamps as Dates', async () => {
    const counter = countQueries(database.db);
    const found = await getRunWithAttempts(database.db, 'acme', acmeRun);
    counter.stop();
    expect(counter.counts()).toEqual({ roundTrips: 1, statements: 1, commits: 1 });
    expect(found?.run).toMatchObject({ id: acmeRun, tenant_id: 'acme', input: { who: 'acme' } });
    expect(found?.run.started_at).toEqual(new Date('2026-01-02T03:04:05.678Z'));
    expect(found?.run.created_at).toBeInstanceOf(Date);
    expect(found?.run.finished_at).toBeNull();
    expect(found?.attempts).toHaveLength(1);
    expect(found?.attempts[0]).toMatchObject({ step_id: 'first', output: { ok: true } });
    expect(found?.attempts[0]?.started_at).toBeInstanceOf(Date);
    expect(found?.calls).toEqual({ calledBy: null, calls: [] });
    expect(found?.signals).toEqual([]);
  });

  it("does not show another tenant's run", async () => {
    expect(await getRunWithAttempts(database.db, 'globex', acmeRun)).toBeUndefined();
    expect(await getRunWithAttempts(database.db, "acme' or true --", acmeRun)).toBeUndefined();
    await expect(database.db.raw("select run_view('', ?)", [acmeRun])).rejects.toThrow(/no tenant/);
  });

  it('reads under row-level security: without its tenant filter it still sees only the tenant', async () => {
    const { rows } = await database.db.raw<{ rows: Array<{ def: string }> }>(
      "select pg_get_functiondef('run_view(text, uuid)'::regprocedure) as def",
    );
    const unfiltered = rows[0]!.def
      .replace(/\.run_view\(/, '.run_view_unfiltered(')
      .replace('r.tenant_id = p_tenant and ', '');
    expect(unfiltered).not.toContain('r.tenant_id = p_tenant');
    await database.db.raw(unfiltered);
    try {
      const view = async (tenant: string, run: string) =>
        (
          await database.db.raw<{ rows: Array<{ v: { run: { id: string } | null } | null }> }>(
            'select run_view_unfiltered(?, ?) as v',
            [tenant, run],
          )
        ).rows[0]!.v;
      expect((await view('acme', acmeRun))?.run?.id).toBe(acmeRun);
      expect(await view('acme', globexRun)).toBeNull();
    } finally {
      await database.db.raw('drop function run_view_unfiltered(text, uuid)');
    }
  });

  it('puts the role and the tenant setting back as they were', async () => {
    const after = await withTenant(database.db, 'globex', async (trx) => {
      await trx.raw('select run_view(?, ?)', ['acme', acmeRun]);
      return (
        await trx.raw<{ rows: Array<{ role: string; tenant: string }> }>(
          "select current_user as role, current_setting('app.tenant_id', true) as tenant",
        )
      ).rows[0];
    });
    expect(after).toEqual({ role: 'atlas_app', tenant: 'globex' });
    const platform = await database.db.raw<{ rows: Array<{ role: string; tenant: string | null }> }>(
      "select run_view('acme', ?) is not null as seen, current_user as role, current_setting('app.tenant_id', true) as tenant",
      [acmeRun],
    );
    expect(platform.rows[0]!.role).not.toBe('atlas_app');
  });
});
