import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fireSchedule } from '../../engine/runtime/cron.ts';
import { createRun } from '../../engine/runtime/trigger.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { waitFor } from '../helpers/poll.ts';

const wf = (id: string, trigger: string, steps: string, extra = '') =>
  `apiVersion: atlas/v1\nkind: Workflow\nid: ${id}\ntrigger: ${trigger}\n${extra}steps:\n${steps}`;

const MANIFESTS = {
  'parallel.yaml': wf(
    'WF-910',
    '{ type: manual }',
    `  - id: a
    uses: core.sleep
    with: { ms: 300 }
  - id: b
    uses: core.sleep
    needs: []
    with: { ms: 300 }
  - id: join
    uses: core.set
    needs: [a, b]
    with: { value: joined }
`,
  ),
  'long.yaml': wf(
    'WF-911',
    '{ type: manual }',
    `  - id: wait
    uses: core.sleep
    with: { ms: 20000 }
    timeout: 60s
  - id: never
    uses: core.noop
`,
  ),
  'once.yaml': wf(
    'WF-912',
    '{ type: manual }',
    `  - id: first
    uses: core.set
    with: { value: kept }
  - id: flaky
    uses: core.fail
    with: { kind: retryable, times: 1 }
    retry: { maxAttempts: 1 }
  - id: last
    uses: core.set
    with: { value: "{{ steps.first.output }}" }
`,
  ),
  'serial.yaml': wf(
    'WF-913',
    '{ type: manual }',
    `  - id: hold
    uses: core.sleep
    with: { ms: 250 }
`,
    'concurrency: { limit: 1 }\n',
  ),
  'source.yaml': wf('WF-914', '{ type: manual }', `  - id: s\n    uses: core.set\n    with: { value: 42 }\n`),
  'follower.yaml': wf(
    'WF-915',
    '{ type: event, workflow: WF-914, status: [succeeded] }',
    `  - id: echo\n    uses: core.set\n    with: { value: "{{ trigger.output.s }}" }\n`,
  ),
  'daily.yaml': wf(
    'WF-916',
    "{ type: schedule, cron: '30 8 * * *', input: { when: morning } }",
    `  - id: hello\n    uses: core.set\n    with: { value: "{{ input.when }}" }\n`,
    'input:\n  type: object\n  properties:\n    when: { type: string }\n',
  ),
};

describe('workflow control flow', () => {
  const database = useTestDatabase();
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine(database, {
      manifests: MANIFESTS,
      tenants: ['acme', 'globex', 'initech'],
    });
    await engine.startWorker(8);
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('runs independent steps in parallel and joins them', async () => {
    const run = await engine.runToEnd('WF-910');
    expect(run.status).toBe('succeeded');
    const [a, b, join] = run.steps.map((s) => s.attempts[0]!);
    // Overlapping attempts: each started before the other finished.
    expect(Date.parse(a!.startedAt!)).toBeLessThan(Date.parse(b!.finishedAt!));
    expect(Date.parse(b!.startedAt!)).toBeLessThan(Date.parse(a!.finishedAt!));
    expect(Date.parse(join!.startedAt!)).toBeGreaterThanOrEqual(
      Math.max(Date.parse(a!.finishedAt!), Date.parse(b!.finishedAt!)),
    );
  });

  it('cancels a running run: the step sees its signal fire and nothing after it runs', async () => {
    const { run } = await engine.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-911' });
    await waitFor(async () => (await engine.runtime.getRun('acme', run.id))?.steps[0]?.status === 'running');
    const cancelled = await engine.runtime.cancel('acme', run.id);
    expect(cancelled.status).toBe('cancelled');
    await waitFor(
      async () => (await engine.runtime.getRun('acme', run.id))?.steps[0]?.status === 'cancelled',
    );
    const detail = (await engine.runtime.getRun('acme', run.id))!;
    expect(detail.status).toBe('cancelled');
    expect(detail.steps[0]!.attempts[0]!.durationMs).toBeLessThan(15_000);
    expect(detail.steps[1]!.status).toBe('pending');
    await expect(engine.runtime.cancel('acme', run.id)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('cancels a queued run before any step runs', async () => {
    await engine.runtime.setWorkflowState('acme', 'WF-913', { enabled: true });
    const { run } = await engine.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-911' });
    const cancelled = await engine.runtime.cancel('acme', run.id);
    expect(cancelled.status).toBe('cancelled');
  });

  it('retries a failed run from its failed step, keeping earlier outputs', async () => {
    const failed = await engine.runToEnd('WF-912');
    expect(failed.status).toBe('failed');
    await engine.runtime.retry('acme', failed.id);
    const done = (await engine.runtime.waitForRun('acme', failed.id, 10_000))!;
    expect(done.status).toBe('succeeded');
    const [first, flaky, last] = done.steps;
    expect(first!.attempts).toHaveLength(1);
    expect(flaky!.attempts.map((a) => a.status)).toEqual(['failed', 'succeeded']);
    expect(last!.attempts[0]!.output).toBe('kept');
    await expect(engine.runtime.retry('acme', failed.id)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('restarts a finished run from the beginning as a new attempt', async () => {
    const first = await engine.runToEnd('WF-914');
    const restarted = await engine.runtime.restart('acme', first.id);
    expect(restarted).toMatchObject({ status: 'queued', runAttempt: 2 });
    const done = (await engine.runtime.waitForRun('acme', first.id, 10_000))!;
    expect(done.status).toBe('succeeded');
    expect(done.steps[0]!.attempts.map((a) => a.runAttempt)).toEqual([1, 2]);
  });

  it('never runs more than the concurrency limit of a group at once', async () => {
    const runs = await Promise.all(
      [1, 2, 3].map(() => engine.runtime.trigger({ tenantId: 'globex', workflowId: 'WF-913' })),
    );
    const done = await Promise.all(runs.map((r) => engine.runtime.waitForRun('globex', r.run.id, 30_000)));
    expect(done.map((r) => r!.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const spans = done
      .map((r) => [Date.parse(r!.startedAt!), Date.parse(r!.finishedAt!)] as const)
      .sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
  });

  it('starts an event-triggered workflow when the watched one succeeds, for tenants that enabled it', async () => {
    await engine.runtime.setWorkflowState('acme', 'WF-915', { enabled: true });
    const source = await engine.runToEnd('WF-914');
    await waitFor(
      async () => (await database.db('workflow_runs').where({ parent_run_id: source.id })).length === 1,
    );
    const [child] = await database.db('workflow_runs').where({ parent_run_id: source.id });
    const done = (await engine.runtime.waitForRun('acme', child.id, 10_000))!;
    expect(done.workflowId).toBe('WF-915');
    expect(done.steps[0]!.attempts[0]!.output).toBe(42);
    const other = await engine.runToEnd('WF-914', {}, 'globex');
    expect(await database.db('workflow_runs').where({ parent_run_id: other.id })).toHaveLength(0);
  });

  it('fires a schedule once per enabled tenant, and a double fire starts nothing more', async () => {
    await engine.runtime.setWorkflowState('acme', 'WF-916', { enabled: true });
    await engine.runtime.setWorkflowState('initech', 'WF-916', { enabled: true });
    await database.db('tenants').where({ id: 'initech' }).update({ status: 'disabled' });
    const core = {
      deps: { catalogue: engine.services.catalogue, db: database.db, log: { info() {} } },
      dispatcher: { poke() {} },
    };
    const payload = { workflowId: 'WF-916', _cron: { ts: '2026-11-26T08:30:00.000Z' } };
    expect(await fireSchedule(core as never, payload)).toBe(1);
    expect(await fireSchedule(core as never, payload)).toBe(0);
    const [run] = await database.db('workflow_runs').where({ workflow_id: 'WF-916' });
    expect(run.tenant_id).toBe('acme');
    expect(run.trigger).toMatchObject({ type: 'schedule', scheduledAt: '2026-11-26T08:30:00.000Z' });
    const done = (await engine.runtime.waitForRun('acme', run.id, 10_000))!;
    expect(done.steps[0]!.attempts[0]!.output).toBe('morning');
  });

  it('picks up a run whose creator committed it and died before handing it to the queue', async () => {
    const entry = engine.services.catalogue.workflow('WF-914')!;
    // The run row commits (as in an API transaction), but nobody pokes the dispatcher.
    const { run } = await database.db.transaction((trx) =>
      createRun(trx, {
        tenantId: 'acme',
        entry,
        input: {},
        trigger: { type: 'manual', at: new Date().toISOString(), by: null },
      }),
    );
    const done = (await engine.runtime.waitForRun('acme', run.id, 10_000))!;
    expect(done.status).toBe('succeeded');
    const row = await database.db('workflow_runs').where({ id: run.id }).first('dispatched');
    expect(row.dispatched).toBe(true);
  });

  it('lists runs newest first with a cursor that pages through them all', async () => {
    const seen = new Set<string>();
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await engine.runtime.listRuns('acme', { limit: 2, cursor });
      for (const r of page.items) seen.add(r.id);
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    const total = await database.db('workflow_runs').where({ tenant_id: 'acme' }).count({ n: '*' });
    expect(seen.size).toBe(Number(total[0]!.n));
    await expect(engine.runtime.listRuns('acme', { limit: 2, cursor: 'garbage' })).rejects.toMatchObject({
      code: 'invalid_input',
    });
  });
});
