/**
 * A signal that arrives while its run is still active beside a longer step is seen at once:
 * the step that needs it starts before the longer step ends, instead of after the run parks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { waitFor } from '../helpers/poll.ts';

const MANIFESTS = {
  'beside.yaml': `apiVersion: atlas/v1
kind: Workflow
id: WF-948
trigger: { type: manual }
steps:
  - id: slow
    uses: core.sleep
    with: { ms: 4000 }
    timeout: 10s
  - id: approval
    uses: core.waitForSignal
    needs: []
    with: { name: approval, timeout: 1h }
  - id: after
    uses: core.set
    needs: [approval]
    with: { value: "{{ steps.approval.output.ok }}" }
`,
};

describe('a signal beside a longer step', () => {
  const database = useTestDatabase();
  let engine: TestEngine;

  beforeAll(async () => {
    engine = await startTestEngine(database, { manifests: MANIFESTS });
    await engine.startWorker(2);
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('starts the step that needs the signal before the longer step ends', async () => {
    const { run } = await engine.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-948' });
    const row = (stepId: string) =>
      database.db('step_runs').where({ run_id: run.id, step_id: stepId }).first();
    await waitFor(async () => (await row('approval'))?.status === 'waiting');
    expect((await row('slow'))?.status).toBe('running');
    await engine.runtime.signal({
      tenantId: 'acme',
      runId: run.id,
      name: 'approval',
      payload: { ok: true },
      sender: 'test',
    });
    // Clock-agnostic: the step that needs the signal ends while the longer step still runs.
    await waitFor(async () => (await row('after'))?.status === 'succeeded', 3_000);
    console.error('SLOW', JSON.stringify(await row('slow')));
    expect((await row('slow'))?.status).toBe('running');
    const done = (await engine.runtime.waitForRun('acme', run.id, 20_000))!;
    expect(done.status).toBe('succeeded');
    expect((await row('after')).output).toBe(true);
  });
});
