/**
 * A pure step rides in the next durable write instead of a checkpoint of its own: a worker
 * killed (SIGKILL) after a pure step ran and before that write leaves nothing in the ledger,
 * and the worker that takes the run over computes the pure steps again. Nothing is lost, no
 * attempt is recorded twice, and none is a `worker_lost` failure. Real worker processes.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.ts';
import { poll } from '../helpers/poll.ts';
import { makeRuntimeForTest } from '../helpers/runtime.ts';
import { useWorkerProcesses } from '../helpers/workers.ts';

const WORKFLOW = `apiVersion: atlas/v1
kind: Workflow
id: WF-963
trigger: { type: manual }
steps:
  - id: first
    uses: core.set
    with: { value: "{{ input.n }}" }
  - id: long
    uses: puretest.compute
    with: { value: "{{ steps.first.output }}", ms: 4000 }
  - id: last
    uses: core.set
    with: { value: "{{ steps.long.output.value }}" }
`;

describe('a worker killed between a pure step and the next write', () => {
  const workers = useWorkerProcesses(WORKFLOW);
  const { database } = workers;

  it('replays the pure steps on the next worker and loses nothing', async () => {
    const plugin = { ATLAS_CONNECTORS: path.join(ROOT, 'test/fixtures/plugins/pure-slow.ts') };
    const env = workers.env(plugin);
    const start = () => workers.start(env);
    const victim = await start();
    const { runtime, close } = await makeRuntimeForTest(database, workers.dir, plugin);
    try {
      const { run } = await runtime.trigger({ tenantId: 'acme', workflowId: 'WF-963', input: { n: 7 } });
      await poll(async () => {
        const row = await database.db('workflow_runs').where({ id: run.id, status: 'running' }).first();
        return row as object | undefined;
      }, 30_000);
      // `first` ran at once; `long` is computing: neither is written yet.
      await new Promise((r) => setTimeout(r, 1_000));
      const [written] = await database.db('step_runs').where({ run_id: run.id }).count({ n: '*' });
      expect(Number(written!.n)).toBe(0);
      await victim.stop('SIGKILL');
      await start();

      const done = (await runtime.waitForRun('acme', run.id, 90_000))!;
      expect(done.status).toBe('succeeded');
      expect(done.steps.map((s) => [s.id, s.attempts.map((a) => a.status)])).toEqual([
        ['first', ['succeeded']],
        ['long', ['succeeded']],
        ['last', ['succeeded']],
      ]);
      expect(done.steps.find((s) => s.id === 'last')!.attempts[0]!.output).toBe(7);
      const rows = await database.db('step_runs').where({ run_id: run.id });
      expect(rows).toHaveLength(3);
    } finally {
      await close();
    }
  }, 150_000);
});
