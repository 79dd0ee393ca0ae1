/**
 * `forEach`: each item its own checkpointed attempt chain (`step[i]`), in order, bounded
 * concurrency, per-item retries, `onItemError`, `maxItems`, and a resume after a crash that
 * repeats only the items that were in flight.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRun } from '../../engine/runtime/trigger.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';

const wf = (id: string, steps: string) =>
  `apiVersion: atlas/v1\nkind: Workflow\nid: ${id}\ntrigger: { type: manual }\nsteps:\n${steps}`;

const MANIFESTS = {
  'remind.yaml': wf(
    'WF-930',
    `  - id: list
    uses: core.set
    with: { value: [{ id: a, amount: 1 }, { id: b, amount: 2 }, { id: c, amount: 3 }, { id: d, amount: 4 }, { id: e, amount: 5 }] }
  - id: remind
    uses: core.sleep
    forEach: "{{ steps.list.output }}"
    as: invoice
    concurrency: 3
    with: { ms: 150 }
  - id: shape
    uses: core.set
    forEach: "{{ steps.list.output }}"
    as: invoice
    concurrency: 2
    with: { value: "{{ loop.index }}:{{ invoice.id }}" }
  - id: after
    uses: core.set
    with: { value: "{{ steps.shape.output }}" }
`,
  ),
  'continue.yaml': wf(
    'WF-931',
    `  - id: each
    uses: core.fail
    forEach: [1, 2, 3]
    onItemError: continue
    retry: { maxAttempts: 2, backoff: { initial: 10ms } }
    with: { kind: retryable, times: "{{ item }}", message: "item {{ loop.index }}" }
`,
  ),
  'fail.yaml': wf(
    'WF-932',
    `  - id: each
    uses: core.fail
    forEach: [1, 2, 3, 4]
    retry: { maxAttempts: 1 }
    with: { kind: fatal, times: "{{ item }}" }
  - id: never
    uses: core.noop
`,
  ),
  'big.yaml': wf(
    'WF-933',
    `  - id: each
    uses: core.noop
    forEach: "{{ input.items }}"
    maxItems: 3
`,
  ),
  'resume.yaml': wf(
    'WF-934',
    `  - id: each
    uses: core.set
    forEach: [10, 11, 12, 13, 14]
    concurrency: 2
    with: { value: "{{ item }}" }
`,
  ),
  'many.yaml': wf(
    'WF-936',
    `  - id: each
    uses: core.noop
    forEach: "{{ input.items }}"
    maxItems: 10000
    concurrency: 100
`,
  ),
  'empty.yaml': wf(
    'WF-935',
    `  - id: each
    uses: core.set
    forEach: []
    with: { value: "{{ item }}" }
  - id: count
    uses: core.set
    with: { value: "{{ steps.each.output }}" }
`,
  ),
};

describe('forEach', () => {
  const database = useTestDatabase();
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine(database, { manifests: MANIFESTS });
    await engine.startWorker(4);
  });
  afterAll(async () => {
    await engine?.stop();
  });

  const itemRows = (runId: string, stepId: string) =>
    database
      .db('step_runs')
      .where({ run_id: runId })
      .andWhere('step_id', 'like', `${stepId}[%`)
      .orderBy('id');

  it('runs each item as its own attempt, at most `concurrency` at once, and outputs the list in order', async () => {
    const run = await engine.runToEnd('WF-930');
    expect(run.status).toBe('succeeded');
    const after = run.steps.find((s) => s.id === 'after')!;
    expect(after.attempts[0]!.output).toEqual(['0:a', '1:b', '2:c', '3:d', '4:e']);
    const rows = await itemRows(run.id, 'remind');
    expect(rows.map((r) => r.step_id).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `remind[${i}]`));
    // Never more than three items overlap.
    const spans = rows.map((r) => [r.started_at.getTime(), r.finished_at.getTime()] as const);
    for (const [start] of spans) {
      const overlapping = spans.filter(([s, f]) => s <= start && f > start).length;
      expect(overlapping).toBeLessThanOrEqual(3);
    }
    expect(Math.max(...spans.map(([s]) => spans.filter(([s2, f2]) => s2 <= s && f2 > s).length))).toBe(3);
    const remind = run.steps.find((s) => s.id === 'remind')!;
    expect(remind.attempts[0]!.input).toMatchObject({ items: expect.any(Array) });
    expect(remind.attempts[0]!.output).toHaveLength(5);
  });

  it('retries each item by the step policy and records failed items in place with `continue`', async () => {
    const run = await engine.runToEnd('WF-931');
    expect(run.status).toBe('succeeded');
    const each = run.steps.find((s) => s.id === 'each')!;
    const output = each.attempts[0]!.output as unknown[];
    expect(output[0]).toEqual({ attempt: 2 });
    expect(output[1]).toMatchObject({ error: { kind: 'retryable', message: 'item 1' } });
    expect(output[2]).toMatchObject({ error: { message: 'item 2' } });
    const rows = await itemRows(run.id, 'each');
    expect(rows.filter((r) => r.step_id === 'each[0]').map((r) => r.status)).toEqual(['failed', 'succeeded']);
    expect(rows.filter((r) => r.step_id === 'each[1]').map((r) => r.attempt)).toEqual([1, 2]);
  });

  it('fails the step and the run on the first item that fails for good', async () => {
    const run = await engine.runToEnd('WF-932');
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({
      step: 'each',
      item: 0,
      message: expect.stringMatching(/^item 0 failed/),
    });
    // Concurrency 1: nothing after the failed item started.
    expect(await itemRows(run.id, 'each')).toHaveLength(1);
    expect(run.steps.find((s) => s.id === 'never')!.status).toBe('pending');
  });

  it('fails a list longer than maxItems before any item runs', async () => {
    const run = await engine.runToEnd('WF-933', { items: [1, 2, 3, 4] });
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({
      step: 'each',
      code: 'invalid_input',
      message: expect.stringContaining('4 items, more than maxItems (3)'),
    });
    expect(await itemRows(run.id, 'each')).toHaveLength(0);
    const notList = await engine.runToEnd('WF-933', { items: 'abc' });
    expect(notList.error).toMatchObject({ message: 'forEach must be a list, but it is a string' });
  });

  it('outputs an empty list for an empty forEach', async () => {
    const run = await engine.runToEnd('WF-935');
    expect(run.status).toBe('succeeded');
    expect(run.steps.find((s) => s.id === 'count')!.attempts[0]!.output).toEqual([]);
  });

  it('resumes after a crash: items done stay done, only the item in flight runs again', async () => {
    const entry = engine.services.catalogue.workflow('WF-934')!;
    // The ledger a worker leaves when it dies: items 0 and 1 done, item 2 in flight.
    const runId = await database.db.transaction(async (trx) => {
      const { run } = await createRun(trx, {
        tenantId: 'acme',
        entry,
        input: {},
        trigger: { type: 'manual', at: new Date().toISOString(), by: null },
      });
      await trx('workflow_runs')
        .where({ id: run.id })
        .update({
          status: 'running',
          started_at: new Date(),
          lease_owner: 'dead',
          lease_expires_at: new Date(0),
        });
      const row = (stepId: string, status: string, extra: object) => ({
        tenant_id: 'acme',
        run_id: run.id,
        run_attempt: 1,
        step_id: stepId,
        uses: 'core.set',
        attempt: 1,
        max_attempts: 3,
        status,
        worker: 'dead',
        ...extra,
      });
      await trx('step_runs').insert([
        row('each', 'running', { input: JSON.stringify({ items: [10, 11, 12, 13, 14] }) }),
        row('each[0]', 'succeeded', { output: JSON.stringify(10), finished_at: new Date() }),
        row('each[1]', 'succeeded', { output: JSON.stringify(11), finished_at: new Date() }),
        row('each[2]', 'running', {}),
      ]);
      return run.id;
    });
    const done = (await engine.runtime.waitForRun('acme', runId, 20_000))!;
    expect(done.status).toBe('succeeded');
    expect(done.steps.find((s) => s.id === 'each')!.attempts[0]!.output).toEqual([10, 11, 12, 13, 14]);
    const rows = await itemRows(runId, 'each');
    const attempts = (id: string) => rows.filter((r) => r.step_id === id).map((r) => r.status);
    expect(attempts('each[0]')).toEqual(['succeeded']);
    expect(attempts('each[1]')).toEqual(['succeeded']);
    expect(attempts('each[2]')).toEqual(['failed', 'succeeded']);
    expect(rows.find((r) => r.step_id === 'each[2]')!.error).toMatchObject({ code: 'worker_lost' });
    expect(attempts('each[3]')).toEqual(['succeeded']);
  });

  it('completes a 10,000-item loop with memory bounded', async () => {
    const items = Array.from({ length: 10_000 }, (_, i) => i);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    const started = performance.now();
    const run = await engine
      .runToEnd('WF-936', { items }, 'acme', 240_000)
      .finally(() => clearInterval(sampler));
    const seconds = (performance.now() - started) / 1000;
    expect(run.status).toBe('succeeded');
    const [row] = await database.db('step_runs').where({ run_id: run.id }).count({ n: '*' });
    expect(Number(row!.n)).toBe(10_001);
    const growthMb = (peak - before) / 2 ** 20;
    console.log(
      `forEach 10000 items: ${seconds.toFixed(1)} s, ${(10_000 / seconds).toFixed(0)} items/s, RSS ${(before / 2 ** 20).toFixed(0)} MB -> peak ${(peak / 2 ** 20).toFixed(0)} MB (+${growthMb.toFixed(0)} MB)`,
    );
    expect(growthMb).toBeLessThan(300);
  }, 300_000);
});
