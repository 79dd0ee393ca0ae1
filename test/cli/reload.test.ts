/** SIGHUP reloads the catalogue of an `atlas worker`, and its schedules with it. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, type LongRunning, logWorkflow, startCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { waitFor } from '../helpers/poll.ts';

const MANUAL = logWorkflow('WF-001', '{ type: manual }');
const SCHEDULED = logWorkflow('WF-053', '{ type: schedule, cron: "15 4 * * *" }');

describe('atlas worker on SIGHUP', () => {
  const database = useTestDatabase();
  let dir: string;
  let worker: LongRunning | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'atlas-reload-'));
    await writeFile(path.join(dir, 'WF-001.yaml'), MANUAL);
  });
  afterAll(async () => {
    await worker?.stop('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });

  it('registers the schedule of a workflow added since it started, and refuses an invalid change', async () => {
    worker = startCli(
      ['worker'],
      cliEnv({
        DATABASE_URL: database.url,
        ATLAS_MANIFESTS: dir,
        ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
      }),
    );
    await worker.waitFor(/Atlas worker started/, 60_000);
    const crontabs = () =>
      database.db
        .withSchema('graphile_worker')
        .from('_private_known_crontabs')
        .pluck('identifier') as Promise<string[]>;

    await writeFile(path.join(dir, 'WF-053.yaml'), SCHEDULED);
    worker.child.kill('SIGHUP');
    await worker.waitFor(/Catalogue reloaded \(SIGHUP\): added Workflow WF-053\./, 20_000);
    await waitFor(async () => (await crontabs()).includes('schedule:WF-053'), 20_000);

    await writeFile(path.join(dir, 'WF-053.yaml'), SCHEDULED.replace('15 4 * * *', '15 4 * *'));
    worker.child.kill('SIGHUP');
    await worker.waitFor(/still serving the last valid one/, 20_000);
    expect(worker.output()).toContain('cron "15 4 * *" has 4 fields');
    expect(worker.child.exitCode).toBeNull();
  }, 90_000);
});
