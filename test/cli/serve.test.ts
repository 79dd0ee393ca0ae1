import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDb } from '../../engine/db/knex.ts';
import { migrateDown, migrateUp } from '../../engine/db/migrate.ts';
import { cliEnv, runCli, startCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';

const LISTENING = /Atlas is listening on (http:\/\/127\.0\.0\.1:\d+)/;

async function processesUsing(dir: string): Promise<number> {
  let found = 0;
  for (const pid of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir)) found++;
  }
  return found;
}

describe('atlas serve on the embedded PostgreSQL', () => {
  let home: string;
  beforeAll(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-home-'));
    await fs.chmod(home, 0o755); // the database server's user must be able to traverse it
  });
  afterAll(async () => {
    await fs.rm(home, { recursive: true, force: true });
  });

  it('starts, is ready, keeps its data across restarts, refuses a second instance and leaves nothing behind', async () => {
    const env = cliEnv({ ATLAS_HOME: home, PORT: '0' });
    const first = startCli(['serve'], env);
    const [, url] = await first.waitFor(LISTENING, 60_000);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);

    // The quick start has a tenant; add another through the shared database.
    const status = await runCli(['migrate', 'status'], env);
    expect(status.stdout).toContain('applied  001_tenants');

    const second = await runCli(['serve'], env);
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toMatch(/^atlas serve: Atlas is already running \(pid \d+\)/);

    expect(await first.stop('SIGTERM')).toBe(0);
    expect(await processesUsing(home)).toBe(0);
    await expect(fs.access(path.join(home, 'atlas.lock'))).rejects.toThrow();

    const again = startCli(['serve'], env);
    const [, url2] = await again.waitFor(LISTENING, 60_000);
    expect((await fetch(`${url2}/readyz`)).status).toBe(200);
    expect(again.output()).not.toContain('migrations applied');
    expect(await again.stop('SIGINT')).toBe(0);
    expect(await processesUsing(home)).toBe(0);
  }, 120_000);

  it('recovers the data directory after the engine was killed', async () => {
    const env = cliEnv({ ATLAS_HOME: home, PORT: '0' });
    const victim = startCli(['serve'], env);
    await victim.waitFor(LISTENING, 60_000);
    await victim.stop('SIGKILL');
    const next = startCli(['serve'], env);
    const [, url] = await next.waitFor(LISTENING, 60_000);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(await next.stop('SIGTERM')).toBe(0);
    expect(await processesUsing(home)).toBe(0);
  }, 120_000);
});

describe('/readyz with DATABASE_URL', () => {
  const database = useTestDatabase();

  it('answers 503 problem+json while a migration is pending, 200 once applied', async () => {
    const env = cliEnv({ DATABASE_URL: database.url, PORT: '0' });
    const db = makeDb(database.url, { poolSize: 1 });
    try {
      const server = startCli(['serve'], env);
      const [, url] = await server.waitFor(LISTENING);
      await migrateDown(db);
      const res = await fetch(`${url}/readyz`);
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const body = (await res.json()) as { detail: string; status: number };
      expect(body.status).toBe(503);
      expect(body.detail).toMatch(/^Database migrations are pending: \d+_/);
      await migrateUp(db, database.url);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      expect(await server.stop()).toBe(0);
    } finally {
      await db.destroy();
    }
  });
});
