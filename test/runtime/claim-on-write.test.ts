/**
 * A fresh run is taken without a claim: the worker reads it, runs its pure steps and claims it
 * in its first checkpoint, so a run of pure steps is claimed and ended in one write of its
 * row. A pure step that runs long makes the worker claim the run on its own meanwhile, and a
 * claim that comes too late (the run was cancelled or claimed elsewhere) writes nothing.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCheckpoints } from '../../engine/db/ledger-writer.ts';
import { ROOT } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { manualWorkflow } from '../helpers/manifests.ts';
import { poll } from '../helpers/poll.ts';

const MANIFESTS = {
  'pure.yaml': manualWorkflow(
    'WF-940',
    `  - { id: one, uses: core.set, with: { value: "{{ input.n }}" } }
  - { id: two, uses: core.noop }
  - { id: three, uses: core.set, with: { value: "{{ steps.one.output }}" } }
`,
  ),
  'slow.yaml': manualWorkflow(
    'WF-941',
    `  - { id: slow, uses: puretest.compute, with: { value: 5, ms: 1500 } }
`,
  ),
};

const database = useTestDatabase();
let atlas: TestEngine;

beforeAll(async () => {
  // Every change of a run row's status, lease and epoch, in order, as PostgreSQL applied it.
  await database.db.raw(`
    create table run_row_writes (n serial primary key, run_id uuid, old_status text, new_status text,
                                 lease_owner text, lease_epoch int);
    create function record_run_row_write() returns trigger language plpgsql as $$
    begin
      insert into run_row_writes (run_id, old_status, new_status, lease_owner, lease_epoch)
      values (new.id, old.status, new.status, new.lease_owner, new.lease_epoch);
      return new;
    end $$;
    create trigger record_run_row_write after update on workflow_runs
      for each row execute function record_run_row_write();`);
  atlas = await startTestEngine(database, {
    manifests: MANIFESTS,
    env: { ATLAS_CONNECTORS: path.join(ROOT, 'test/fixtures/plugins/pure-slow.ts') },
  });
  await atlas.startWorker(4);
});

afterAll(async () => {
  await atlas?.stop();
});

const writesOf = (runId: string) =>
  database
    .db('run_row_writes')
    .where({ run_id: runId })
    .orderBy('n')
    .select('old_status', 'new_status', 'lease_epoch');

describe('the claim rides in the first checkpoint', () => {
  it('claims and ends a run of pure steps in one write of its row', async () => {
    const done = await atlas.runToEnd('WF-940', { n: 3 });
    expect(done.status).toBe('succeeded');
    expect(done.steps.map((s) => [s.id, s.attempts.map((a) => a.status)])).toEqual([
      ['one', ['succeeded']],
      ['two', ['succeeded']],
      ['three', ['succeeded']],
    ]);
    // The outbox marks it dispatched; the worker writes it once, claimed (epoch 1) and ended.
    expect(await writesOf(done.id)).toEqual([
      { old_status: 'queued', new_status: 'queued', lease_epoch: 0 },
      { old_status: 'queued', new_status: 'succeeded', lease_epoch: 1 },
    ]);
    const row = await database.db('workflow_runs').where({ id: done.id }).first();
    expect(row.started_at).not.toBeNull();
    expect(row.lease_owner).toBeNull();
  });

  it('claims a run on its own while a pure step runs long, so that it shows running', async () => {
    const { run } = await atlas.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-941' });
    const running = await poll(async () => {
      const row = await database.db('workflow_runs').where({ id: run.id, status: 'running' }).first();
      return row as { lease_owner: string | null; lease_epoch: number } | undefined;
    }, 10_000);
    expect(running.lease_owner).not.toBeNull();
    expect(running.lease_epoch).toBe(1);
    const done = await atlas.runtime.waitForRun('acme', run.id, 20_000);
    expect(done?.status).toBe('succeeded');
    expect(done?.steps[0]?.attempts[0]?.output).toEqual({ value: 5 });
    expect((await writesOf(run.id)).map((w) => w.new_status)).toEqual(['queued', 'running', 'succeeded']);
  });

  it('refuses a claim in a checkpoint once the run is no longer queued, writing nothing', async () => {
    const done = await atlas.runToEnd('WF-940', { n: 1 });
    const [outcome] = await writeCheckpoints(database.db, [
      {
        tenantId: 'acme',
        runId: done.id,
        runAttempt: 1,
        // The epoch it was read with, before its claim.
        leaseEpoch: 0,
        worker: 'late',
        finished: [],
        started: [{ stepId: 'one', uses: 'core.set', attempt: 1, maxAttempts: 1, status: 'succeeded' }],
        end: { status: 'failed', error: null },
        claim: { leaseMs: 30_000 },
      },
    ]);
    expect(outcome!.fenced).toBe(true);
    const steps = await database.db('step_runs').where({ run_id: done.id }).count({ n: '*' });
    expect(Number(steps[0]!.n)).toBe(3);
    expect((await database.db('workflow_runs').where({ id: done.id }).first()).status).toBe('succeeded');
  });
});
