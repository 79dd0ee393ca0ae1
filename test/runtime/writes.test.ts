/**
 * Rows written per run: a step whose action is pure (`core.set`, `core.noop`) is written once,
 * finished, in the next durable write; a side-effecting step keeps its in-flight row, then
 * its outcome. Every row written to the ledger is counted by a trigger on the real tables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';

const wf = (id: string, steps: string) =>
  `apiVersion: atlas/v1\nkind: Workflow\nid: ${id}\ntrigger: { type: manual }\nsteps:\n${steps}`;

const MANIFESTS = {
  'pure.yaml': wf(
    'WF-960',
    `  - { id: one, uses: core.noop }
  - { id: two, uses: core.set, with: { value: "{{ steps.one.output }}" } }
  - { id: three, uses: core.set, with: { value: { n: 3 } } }
`,
  ),
  'mixed.yaml': wf(
    'WF-961',
    `  - { id: before, uses: core.set, with: { value: 1 } }
  - { id: slow, uses: core.sleep, with: { ms: 20 } }
  - { id: after, uses: core.set, with: { value: "{{ steps.before.output }}" } }
`,
  ),
  'loop.yaml': wf(
    'WF-964',
    `  - id: each
    uses: core.set
    forEach: "{{ input.items }}"
    concurrency: 2
    with: { value: "{{ item }}" }
`,
  ),
  'retry.yaml': wf(
    'WF-962',
    `  - id: shape
    uses: core.set
    with: { value: "{{ input.missing.deeper }}" }
`,
  ),
};

interface Written {
  table: string;
  op: string;
  step: string | null;
  status: string;
  xid: string;
}

/** The write that ended the run (later ones, the dispatcher's say, may follow it). */
const endOf = (rows: Written[]) =>
  rows.find((r) => r.table === 'workflow_runs' && (r.status === 'succeeded' || r.status === 'failed'))!;

describe('rows written per run', () => {
  const database = useTestDatabase();
  let engine: TestEngine;

  beforeAll(async () => {
    engine = await startTestEngine(database, { manifests: MANIFESTS });
    await database.db.raw(`
      create table test_writes (tbl text, op text, run_id uuid, step text, status text, xid xid8 default pg_current_xact_id());
      create function test_count_write() returns trigger language plpgsql as $$
      begin
        insert into test_writes (tbl, op, run_id, step, status)
        values (tg_table_name, tg_op, coalesce(to_jsonb(new)->>'run_id', to_jsonb(new)->>'id')::uuid,
                to_jsonb(new)->>'step_id', to_jsonb(new)->>'status');
        return new;
      end $$;
      create trigger test_count after insert or update on step_runs
        for each row execute function test_count_write();
      create trigger test_count after insert or update on workflow_runs
        for each row execute function test_count_write();`);
    await engine.startWorker();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  const written = async (runId: string): Promise<Written[]> =>
    (
      await database.db.raw(
        'select tbl as table, op, step, status, xid::text as xid from test_writes where run_id = ? order by xid, step',
        [runId],
      )
    ).rows as Written[];

  it('writes each pure step once, finished, in the commit that ends the run', async () => {
    const done = await engine.runToEnd('WF-960');
    expect(done.status).toBe('succeeded');
    expect(done.steps.map((s) => [s.id, s.attempts.map((a) => a.status)])).toEqual([
      ['one', ['succeeded']],
      ['two', ['succeeded']],
      ['three', ['succeeded']],
    ]);
    expect(done.steps[2]!.attempts[0]!.output).toEqual({ n: 3 });
    const rows = await written(done.id);
    const steps = rows.filter((r) => r.table === 'step_runs');
    expect(steps.map((r) => `${r.op} ${r.step}`)).toEqual(['INSERT one', 'INSERT three', 'INSERT two']);
    // The three attempts and the run's end share one transaction: one checkpoint for the run.
    const end = endOf(rows);
    expect(new Set(steps.map((r) => r.xid))).toEqual(new Set([end.xid]));
  });

  it('keeps the in-flight row of a side-effecting step; the pure steps beside it are written once', async () => {
    const done = await engine.runToEnd('WF-961');
    expect(done.status).toBe('succeeded');
    const steps = (await written(done.id)).filter((r) => r.table === 'step_runs');
    const ops = (step: string) => steps.filter((r) => r.step === step).map((r) => r.op);
    expect(ops('before')).toEqual(['INSERT']);
    expect(ops('slow')).toEqual(['INSERT', 'UPDATE']);
    expect(ops('after')).toEqual(['INSERT']);
    // `before` rides in the write that records `slow` as started.
    const first = steps.find((r) => r.step === 'slow')!;
    expect(steps.find((r) => r.step === 'before')!.xid).toBe(first.xid);
    expect(done.steps.find((s) => s.id === 'after')!.attempts[0]!.output).toBe(1);
  });

  it('writes the items of a pure forEach once each, with the loop and the run end in one commit', async () => {
    const done = await engine.runToEnd('WF-964', { items: ['a', 'b', 'c', 'd', 'e'] });
    expect(done.status).toBe('succeeded');
    const each = done.steps.find((s) => s.id === 'each')!;
    expect(each.attempts[0]!.output).toEqual(['a', 'b', 'c', 'd', 'e']);
    const rows = await written(done.id);
    const steps = rows.filter((r) => r.table === 'step_runs');
    expect(steps.map((r) => r.op)).toEqual(Array(6).fill('INSERT'));
    const end = endOf(rows);
    expect(new Set(steps.map((r) => r.xid))).toEqual(new Set([end.xid]));
  });

  it('records a pure step that fails, once, with its error', async () => {
    const done = await engine.runToEnd('WF-962');
    expect(done.status).toBe('failed');
    const shape = done.steps.find((s) => s.id === 'shape')!;
    expect(shape.attempts).toHaveLength(1);
    expect(shape.attempts[0]!.status).toBe('failed');
    const steps = (await written(done.id)).filter((r) => r.table === 'step_runs');
    expect(steps.map((r) => r.op)).toEqual(['INSERT']);
  });
});
