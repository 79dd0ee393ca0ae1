/**
 * Fairness between tenants: a tenant's runs in flight are capped (the rest wait, queued, and
 * start as slots free), and one tenant's backlog does not delay another tenant's run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { waitFor } from '../helpers/poll.ts';
import { busyWorkflow, countRuns, startBehindBacklog, triggerMany } from './fairness-kit.ts';

const database = useTestDatabase();
const BACKLOG = 2_500;

let t: TestEngine;

beforeAll(async () => {
  t = await startTestEngine(database, {
    manifests: {
      'busy.yaml': busyWorkflow('WF-960', 20),
      'slow.yaml': busyWorkflow('WF-961', 300),
      'one-at-a-time.yaml': `${busyWorkflow('WF-962', 400)}concurrency: { limit: 1 }\n`,
    },
    tenants: ['tenant-a', 'tenant-b', 'tenant-c', 'tenant-d'],
  });
});
afterAll(() => t?.stop());

describe('fairness between tenants', () => {
  it('keeps a tenant within its runs in flight; the rest wait queued and all finish', async () => {
    await database
      .db('tenants')
      .where({ id: 'tenant-c' })
      .update({ settings: JSON.stringify({ limits: { runsInFlight: 2 } }) });
    const ids = await triggerMany(t, 'tenant-c', 'WF-961', 8);
    await t.startWorker(4);
    let most = 0;
    await waitFor(async () => {
      most = Math.max(most, await countRuns(database.db, { tenant_id: 'tenant-c', status: 'running' }));
      const done = await database.db('workflow_runs').whereIn('id', ids).where({ status: 'succeeded' });
      return done.length === ids.length;
    }, 20_000);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(2);
  }, 30_000);

  it("does not count runs waiting for their concurrency group's slot against the tenant", async () => {
    await database
      .db('tenants')
      .where({ id: 'tenant-d' })
      .update({ settings: JSON.stringify({ limits: { runsInFlight: 2 } }) });
    // One at a time, 400 ms each: held in the tenant's two slots they would block it for 3 s.
    await triggerMany(t, 'tenant-d', 'WF-962', 8);
    await waitFor(
      async () => (await countRuns(database.db, { tenant_id: 'tenant-d', status: 'running' })) > 0,
    );
    const asked = Date.now();
    const { run } = await t.runtime.trigger({ tenantId: 'tenant-d', workflowId: 'WF-961', input: {} });
    await waitFor(
      async () => (await database.db('workflow_runs').where({ id: run.id }).first())?.started_at != null,
    );
    expect(Date.now() - asked).toBeLessThan(2_000);
  }, 30_000);

  it(`starts another tenant's run within 2 s behind ${BACKLOG} queued runs of one tenant`, async () => {
    // No limit helps here: every run of tenant A is in the queue, and B's still goes first.
    const figures = await startBehindBacklog(t, database.db, {
      busy: 'tenant-a',
      quiet: 'tenant-b',
      workflowId: 'WF-960',
      backlog: BACKLOG,
    });
    // Tenant A's backlog is still there, in the queue: B did not just wait for it to drain.
    expect(figures.queued).toBeGreaterThan(BACKLOG / 2);
    expect(figures.undispatched).toBe(0);
    expect(figures.waitedMs).toBeLessThan(2_000);
  }, 60_000);
});
