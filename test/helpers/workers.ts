/**
 * Real `atlas worker` processes on a test file's database, reading one workflow from a
 * temporary manifests folder: the crash and replay tests start them, kill them and start
 * others. Every process left is killed and the folder removed after the file.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { cliEnv, type LongRunning, startCli } from './cli.ts';
import { useTestDatabase } from './db.ts';

export function useWorkerProcesses(workflow: string) {
  const database = useTestDatabase();
  const workers: LongRunning[] = [];
  const fixture = {
    database,
    workers,
    dir: '',
    /** The environment of a worker on this database, with `extra` variables. */
    env(extra: Record<string, string> = {}) {
      return cliEnv({
        DATABASE_URL: database.url,
        DIRECT_URL: database.directUrl,
        ATLAS_MANIFESTS: fixture.dir,
        ATLAS_HOME: fixture.dir,
        ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
        ...extra,
      });
    },
    /** Starts one worker and resolves once it serves. */
    async start(env: NodeJS.ProcessEnv): Promise<LongRunning> {
      const w = startCli(['worker'], env);
      workers.push(w);
      await w.waitFor(/Atlas worker started/, 60_000);
      return w;
    },
  };
  beforeAll(async () => {
    fixture.dir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-workers-'));
    await fs.writeFile(path.join(fixture.dir, 'wf.yaml'), workflow);
    await database.db('tenants').insert({ id: 'acme', name: 'Acme' });
  });
  afterAll(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await fs.rm(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}
