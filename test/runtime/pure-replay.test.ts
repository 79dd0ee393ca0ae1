/**
 * A pure step rides in the next durable write instead of a checkpoint of its own: a worker
 * killed (SIGKILL) after a pure step ran and before that write leaves nothing in the ledger,
 * and the worker that takes the run over computes the pure steps again. Nothing is lost, no
 * attempt is recorded twice, and none is a `worker_lost` failure. Real worker processes.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, type LongRunning, ROOT, startCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { poll } from '../helpers/poll.ts';
import { makeRuntimeForTest } from '../helpers/runtime.ts';

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
  const database = useTestDatabase();
  let dir: string;
  const workers: LongRunning[] = [];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-pure-'));
    await fs.writeFile(path.join(dir, 'wf.yaml'), WORKFLOW);
    await database.db('tenants').insert({ id: 'acme', name: 'Acme' });
  });
  afterAll(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('replays the pure steps on the next worker and loses nothing', async () => {
    const plugin = { ATLAS_CONNECTORS: path.join(ROOT, 'test/fixtures/plugins/pure-slow.ts') };
    const env = cliEnv({
      DATABASE_URL: database.url,
      DIRECT_URL: database.directUrl,
      ATLAS_MANIFESTS: dir,
      ATLAS_HOME: dir,
      ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
      ...plugin,
    });
    const start = async () => {
      const w = startCli(['worker'], env);
      workers.push(w);
      await w.waitFor(/Atlas worker started/, 60_000);
      return w;
    };
    const victim = await start();
    const { runtime, close } = await makeRuntimeForTest(database, dir, plugin);
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
