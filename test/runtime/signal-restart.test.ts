/**
 * A run waiting for a signal outlives everything that runs it: both worker processes are
 * killed with SIGKILL and this test's own PostgreSQL server is stopped and started again; the
 * run is still `waiting`, and a signal then completes it on a new worker. Real processes:
 * `atlas worker`s and an embedded PostgreSQL this file owns (fsync on, as in production).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../engine/config.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../engine/db/embedded.ts';
import { makeDb } from '../../engine/db/knex.ts';
import { migrateUp } from '../../engine/db/migrate.ts';
import { startEngine } from '../../engine/engine.ts';
import { silentLogger } from '../../engine/log.ts';
import { cliEnv, type LongRunning, startCli } from '../helpers/cli.ts';
import { poll } from '../helpers/poll.ts';

const WORKFLOW = `apiVersion: atlas/v1
kind: Workflow
id: WF-931
trigger: { type: manual }
steps:
  - id: before
    uses: core.set
    with: { value: asked }
  - id: approval
    uses: core.waitForSignal
    with: { name: approval, timeout: 1h }
  - id: after
    uses: core.set
    with: { value: "{{ steps.before.output }}: {{ steps.approval.output.answer }}" }
`;
const KEY = Buffer.alloc(32, 5).toString('base64');

describe('a waiting run through SIGKILL of every worker and a PostgreSQL restart', () => {
  let dir: string;
  let server: EmbeddedPostgres | undefined;
  const workers: LongRunning[] = [];

  afterAll(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await server?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const startWorkers = async (url: string, n: number) => {
    const env = cliEnv({
      DATABASE_URL: url,
      ATLAS_MANIFESTS: path.join(dir, 'manifests'),
      ATLAS_HOME: dir,
      ATLAS_ENCRYPTION_KEY: KEY,
    });
    for (let i = 0; i < n; i++) {
      const w = startCli(['worker'], env);
      workers.push(w);
      await w.waitFor(/Atlas worker started/, 60_000);
    }
  };
  const client = async (url: string) => {
    const config = loadConfig({
      DATABASE_URL: url,
      ATLAS_HOME: dir,
      ATLAS_MANIFESTS: path.join(dir, 'manifests'),
      ATLAS_ENCRYPTION_KEY: KEY,
    });
    return startEngine({ config, log: silentLogger, http: false, worker: false });
  };

  it('keeps the run waiting and completes it once the signal comes', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-restart-'));
    await fs.chmod(dir, 0o755);
    await fs.mkdir(path.join(dir, 'manifests'));
    await fs.writeFile(path.join(dir, 'manifests', 'wf.yaml'), WORKFLOW);
    const dataDir = path.join(dir, 'pg', 'data');
    server = await startEmbeddedPostgres({ dataDir });
    const setup = makeDb(server.url, { poolSize: 2 });
    await migrateUp(setup, server.url);
    await setup('tenants').insert({ id: 'acme', name: 'Acme' });
    await setup.destroy();

    await startWorkers(server.url, 2);
    let engine = await client(server.url);
    const { run } = await engine.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-931' });
    await poll(
      async () => (await engine.runtime.getRun('acme', run.id))?.status === 'waiting' || undefined,
      30_000,
    );
    await engine.stop();
    for (const w of workers.splice(0)) await w.stop('SIGKILL');

    await server.stop();
    server = await startEmbeddedPostgres({ dataDir });
    engine = await client(server.url);
    try {
      const parked = (await engine.runtime.getRun('acme', run.id))!;
      expect(parked.status).toBe('waiting');
      expect(parked.steps.map((s) => s.status)).toEqual(['succeeded', 'waiting', 'pending']);

      await startWorkers(server.url, 1);
      await engine.runtime.signal({
        tenantId: 'acme',
        runId: run.id,
        name: 'approval',
        payload: { answer: 'yes' },
        sender: 'test',
      });
      const done = (await engine.runtime.waitForRun('acme', run.id, 30_000))!;
      expect(done.status).toBe('succeeded');
      expect(done.steps[2]!.attempts[0]!.output).toBe('asked: yes');
      expect(done.steps[1]!.attempts).toHaveLength(1);
    } finally {
      await engine.stop();
    }
  }, 180_000);
});
