// `atlas run` against a running engine goes through its API (POST /v1/workflows/:id/runs, then
// GET /v1/runs/:id until the run ends) instead of building the engine in the command: the
// trigger is audited as the API audits it, by `cli:<user>`. Without a running engine, or with
// one on another database, the command builds the engine itself as before.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, type LongRunning, runCli, startCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';

const RUN = ['run', 'WF-001', '--tenant', 'acme', '--input', '{"name":"Ada"}', '--wait'];

describe('atlas run against a running engine', () => {
  const database = useTestDatabase();
  let home: string;
  let env: NodeJS.ProcessEnv;
  let engine: LongRunning | undefined;
  beforeAll(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-run-engine-'));
    env = cliEnv({
      DATABASE_URL: database.url,
      DIRECT_URL: database.directUrl,
      ATLAS_HOME: home,
      ATLAS_JWT_SECRET: 'a-test-secret-of-at-least-thirty-two-bytes!',
      PORT: '0',
    });
    expect((await runCli(['tenants', 'add', 'acme'], env)).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await engine?.stop();
    await fs.rm(home, { recursive: true, force: true });
  });

  /** The actor of the audited trigger of `runId`, if the API triggered it. */
  async function triggeredBy(runId: string): Promise<string | undefined> {
    const row = await database
      .db('audit_log')
      .where({ tenant_id: 'acme', action: 'runs.trigger', entity_id: runId })
      .first<{ actor: string } | undefined>('actor');
    return row?.actor;
  }

  const runId = (stdout: string) => /^Run ([0-9a-f-]{36}) of WF-001: succeeded$/m.exec(stdout)?.[1];

  it('builds the engine itself when none runs', async () => {
    const r = await runCli(RUN, env, 60_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await triggeredBy(runId(r.stdout)!)).toBeUndefined();
  }, 90_000);

  it('goes through the running engine’s API, audited as the CLI user', async () => {
    engine = startCli(['serve'], env);
    await engine.waitFor(/Atlas is listening/, 60_000);
    const r = await runCli(RUN, env, 60_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Hello, Ada!');
    expect(await triggeredBy(runId(r.stdout)!)).toBe(`cli:${os.userInfo().username}`);
    // Errors come back as the API words them, in one sentence.
    const bad = await runCli(['run', 'WF-001', '--tenant', 'acme', '--input', '{}', '--wait'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^atlas run: .*invalid.*\n {2}- .*"name"/);
    const unknown = await runCli(['run', 'WF-999', '--tenant', 'acme'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^atlas run: .*WF-999/);
  }, 120_000);

  it('atlas token and atlas tenants list ask the running engine', async () => {
    expect((await runCli(['tenants', 'disable', 'acme'], env)).code).toBe(0);
    const r = await runCli(['token', '--tenant', 'acme', '--tenant', 'ghost'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(r.stderr).toBe(
      'warning: tenant "acme" is disabled: its API calls will be refused (403)\n' +
        'warning: there is no tenant "ghost": its API calls will be refused (403) until `atlas tenants add ghost`\n',
    );
    const listed = await runCli(['tenants', 'list'], env);
    expect(listed.stdout).toMatch(/^acme {2}disabled {2}acme$/m);
    expect((await runCli(['tenants', 'enable', 'acme'], env)).code).toBe(0);
  }, 60_000);

  it('ignores an engine that serves another database', async () => {
    // The same database under another URL: the command cannot tell, so it does not guess.
    const url = new URL(database.url);
    url.searchParams.set('application_name', 'elsewhere');
    const other = { ...env, DATABASE_URL: url.toString() };
    const r = await runCli(RUN, other, 60_000);
    expect(r.code).toBe(0);
    expect(await triggeredBy(runId(r.stdout)!)).toBeUndefined();
  }, 90_000);

  it('builds the engine itself once the engine stopped', async () => {
    expect(await engine!.stop()).toBe(0);
    engine = undefined;
    const r = await runCli(RUN, env, 60_000);
    expect(r.code).toBe(0);
    expect(await triggeredBy(runId(r.stdout)!)).toBeUndefined();
  }, 90_000);
});
