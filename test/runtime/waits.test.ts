/**
 * Durable waits: `core.sleep` with a `duration` and `core.waitUntil` park the run (status
 * `waiting`, no lease, no worker slot) and resume it through the queue at its time, also
 * when every worker that saw it start is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { waitFor } from '../helpers/poll.ts';

const wf = (id: string, steps: string, extra = '') =>
  `apiVersion: atlas/v1\nkind: Workflow\nid: ${id}\ntrigger: { type: manual }\n${extra}steps:\n${steps}`;

const MANIFESTS = {
  'pause.yaml': wf(
    'WF-940',
    `  - id: pause
    uses: core.sleep
    with: { duration: 3s }
  - id: after
    uses: core.set
    with: { value: "{{ steps.pause.output.sleptMs }}" }
`,
  ),
  'until.yaml': wf(
    'WF-941',
    `  - id: wait
    uses: core.waitUntil
    with: { until: "{{ input.at }}" }
  - id: after
    uses: core.set
    with: { value: "{{ steps.wait.output.until }}" }
`,
    'input:\n  type: object\n  properties:\n    at: { type: string }\n',
  ),
  'quick.yaml': wf('WF-942', `  - id: s\n    uses: core.set\n    with: { value: 1 }\n`),
  'long.yaml': wf('WF-943', `  - id: pause\n    uses: core.sleep\n    with: { duration: 3d }\n`),
};

describe('durable waits', () => {
  const database = useTestDatabase();
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine(database, { manifests: MANIFESTS });
    // One worker slot: a parked run must not hold it.
    await engine.startWorker(1);
  });
  afterAll(async () => {
    await engine?.stop();
  });

  const runRow = (id: string) => database.db('workflow_runs').where({ id }).first();
  const queueJob = (id: string) =>
    database
      .db('graphile_worker.jobs')
      .where({ key: `run:${id}` })
      .first('run_at', 'locked_by');

  it('parks a run on core.sleep (status waiting, no lease, no worker slot) and resumes it on time', async () => {
    const t0 = Date.now();
    const { run } = await engine.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-940' });
    await waitFor(async () => (await runRow(run.id))?.status === 'waiting');
    const parked = await runRow(run.id);
    expect(parked.lease_owner).toBeNull();
    const job = await queueJob(run.id);
    expect(job.locked_by).toBeNull();
    expect(job.run_at.getTime()).toBeGreaterThanOrEqual(t0 + 2_500);
    const detail = (await engine.runtime.getRun('acme', run.id))!;
    expect(detail.status).toBe('waiting');
    expect(detail.steps[0]).toMatchObject({ id: 'pause', status: 'waiting' });
    expect(Date.parse(detail.steps[0]!.attempts[0]!.retryAt!)).toBeGreaterThan(Date.now());
    // The only worker slot is free: another run goes through while this one waits.
    const other = await engine.runToEnd('WF-942');
    expect(other.status).toBe('succeeded');
    expect((await runRow(run.id)).status).toBe('waiting');
    const done = (await engine.runtime.waitForRun('acme', run.id, 15_000))!;
    expect(done.status).toBe('succeeded');
    expect(Date.parse(done.finishedAt!)).toBeGreaterThanOrEqual(t0 + 3_000);
    expect(done.steps[1]!.attempts[0]!.output).toBe(3000);
    expect(done.steps[0]!.attempts).toHaveLength(1);
  });

  it('waits until a templated time; a time already past goes on at once; a bad one fails clearly', async () => {
    const at = new Date(Date.now() + 2_000).toISOString();
    const later = await engine.runToEnd('WF-941', { at });
    expect(later.status).toBe('succeeded');
    expect(Date.parse(later.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(at));
    expect(later.steps[1]!.attempts[0]!.output).toBe(at);
    const past = await engine.runToEnd('WF-941', { at: '2020-01-01T00:00:00Z' });
    expect(past.status).toBe('succeeded');
    expect(past.steps[0]!.attempts[0]!.output).toEqual({ until: '2020-01-01T00:00:00.000Z' });
    const bad = await engine.runToEnd('WF-941', { at: 'next tuesday' });
    expect(bad.status).toBe('failed');
    expect(bad.error).toMatchObject({ step: 'wait', code: 'invalid_input' });
    expect((bad.error as { message: string }).message).toMatch(/core\.waitUntil|date-time/);
  });

  it('cancels a waiting run: its wait ends cancelled and its queue job is gone', async () => {
    const { run } = await engine.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-943' });
    await waitFor(async () => (await runRow(run.id))?.status === 'waiting');
    const cancelled = await engine.runtime.cancel('acme', run.id);
    expect(cancelled.status).toBe('cancelled');
    const detail = (await engine.runtime.getRun('acme', run.id))!;
    expect(detail.steps[0]).toMatchObject({ status: 'cancelled' });
    expect(await queueJob(run.id)).toBeUndefined();
    await expect(engine.runtime.restart('acme', run.id)).resolves.toMatchObject({ status: 'queued' });
    await engine.runtime.cancel('acme', run.id);
  });

  it('resumes a parked run on a new engine after every worker that saw it is gone', async () => {
    const { run } = await engine.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-940' });
    await waitFor(async () => (await runRow(run.id))?.status === 'waiting');
    await engine.stop();
    const next = await startTestEngine(database, { manifests: MANIFESTS });
    engine = next;
    await next.startWorker(1);
    const done = (await next.runtime.waitForRun('acme', run.id, 20_000))!;
    expect(done.status).toBe('succeeded');
    expect(done.steps[1]!.attempts[0]!.output).toBe(3000);
  });
});
