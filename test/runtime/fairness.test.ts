/**
 * Fairness between tenants: a tenant's runs in flight are capped (the rest wait, queued, and
 * start as slots free), and one tenant's backlog does not delay another tenant's run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { waitFor } from '../helpers/poll.ts';

const database = useTestDatabase();
const BACKLOG = 2_500;

const workflow = (id: string, ms: number) => `apiVersion: atlas/v1
kind: Workflow
id: ${id}
trigger: { type: manual }
steps:
  - id: work
    uses: core.sleep
    with: { ms: ${ms} }
`;

let t: TestEngine;

beforeAll(async () => {
  t = await startTestEngine(database, {
    manifests: { 'busy.yaml': workflow('WF-960', 20), 'slow.yaml': workflow('WF-961', 300) },
    tenants: ['tenant-a', 'tenant-b', 'tenant-c'],
  });
});
afterAll(() => t?.stop());

async function triggerMany(tenantId: string, workflowId: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 250) {
    const batch = Array.from({ length: Math.min(250, n - i) }, () =>
      t.runtime.trigger({ tenantId, workflowId, input: {} }),
    );
    for (const { run } of await Promise.all(batch)) ids.push(run.id);
  }
  return ids;
}

const activeRuns = async (tenantId: string): Promise<number> => {
  const [row] = await database
    .db('workflow_runs')
    .where({ tenant_id: tenantId, status: 'running' })
    .count<Array<{ n: string }>>({ n: '*' });
  return Number(row?.n);
};

describe('fairness between tenants', () => {
  it('keeps a tenant within its runs in flight; the rest wait queued and all finish', async () => {
    await database
      .db('tenants')
      .where({ id: 'tenant-c' })
      .update({ settings: JSON.stringify({ limits: { runsInFlight: 2 } }) });
    const ids = await triggerMany('tenant-c', 'WF-961', 8);
    await t.startWorker(4);
    let most = 0;
    await waitFor(async () => {
      most = Math.max(most, await activeRuns('tenant-c'));
      const done = await database.db('workflow_runs').whereIn('id', ids).where({ status: 'succeeded' });
      return done.length === ids.length;
    }, 20_000);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(2);
  }, 30_000);

  it(`starts another tenant's run within 2 s behind ${BACKLOG} queued runs of one tenant`, async () => {
    // No limit helps here: every run of tenant A is in the queue, and B's still goes first.
    await database
      .db('tenants')
      .where({ id: 'tenant-a' })
      .update({ settings: JSON.stringify({ limits: { runsInFlight: 100_000 } }) });
    await triggerMany('tenant-a', 'WF-960', BACKLOG);
    // The worker is busy with tenant A's backlog when tenant B's run arrives.
    await waitFor(async () => (await activeRuns('tenant-a')) > 0);
    const asked = Date.now();
    const { run } = await t.runtime.trigger({ tenantId: 'tenant-b', workflowId: 'WF-960', input: {} });
    await waitFor(async () => {
      const row = await database.db('workflow_runs').where({ id: run.id }).first('started_at');
      return row?.started_at != null;
    }, 20_000);
    const waited = Date.now() - asked;
    const left = await database
      .db('workflow_runs')
      .where({ tenant_id: 'tenant-a', status: 'queued' })
      .count<Array<{ n: string }>>({ n: '*' });
    // Tenant A's backlog is still there, in the queue: B did not just wait for it to drain.
    expect(Number(left[0]?.n)).toBeGreaterThan(BACKLOG / 2);
    const undispatched = await database
      .db('workflow_runs')
      .where({ tenant_id: 'tenant-a', dispatched: false });
    expect(undispatched).toHaveLength(0);
    expect(waited).toBeLessThan(2_000);
  }, 60_000);
});
