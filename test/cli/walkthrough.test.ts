/**
 * The README's "First fifteen minutes", run as written: `atlas serve --watch` in one process,
 * the second terminal's commands in bash (in a fresh directory holding a copy of the shipped
 * manifests), `npx atlas` being this checkout's `bin/atlas.js`.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, type LongRunning, ROOT, runProcess, startCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';

const LISTENING = /Atlas is listening on (http:\/\/127\.0\.0\.1:\d+)/;

/** The second code block of the section: the commands of the second terminal. */
async function walkthroughScript(): Promise<string> {
  const readme = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## First fifteen minutes');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 10));
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks).toHaveLength(2);
  expect(blocks[0]).toContain('npx atlas serve --watch');
  return blocks[1]!;
}

function bash(script: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 120_000) {
  return runProcess('bash', ['-c', script], { cwd, env, timeoutMs });
}

describe('the README walkthrough', () => {
  const database = useTestDatabase();
  let dir: string;
  let server: LongRunning | undefined;
  let url: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-first-hour-'));
    await fs.cp(path.join(ROOT, 'manifests'), path.join(dir, 'manifests'), { recursive: true });
    await database.db('tenants').insert({ id: 'demo', name: 'Demo tenant' }).onConflict('id').ignore();
    env = cliEnv({
      DATABASE_URL: database.url,
      PORT: '0',
      LOG_LEVEL: 'info',
      ATLAS_HOME: path.join(dir, '.atlas'),
      ATLAS_MANIFESTS: path.join(dir, 'manifests'),
      ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      ATLAS_JWT_SECRET: 'first-fifteen-minutes-0123456789abcdef',
    });
    server = startCli(['serve', '--watch'], env);
    [, url] = (await server.waitFor(LISTENING, 60_000)) as unknown as [string, string];
  }, 90_000);

  afterAll(async () => {
    await server?.stop('SIGTERM');
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('starts with default settings without a warning', () => {
    const warnings = server!
      .output()
      .split('\n')
      .filter((line) => /"level":(40|50|60)/.test(line));
    expect(warnings).toEqual([]);
  });

  it('runs every command of the second terminal as written', async () => {
    const script = (await walkthroughScript()).replaceAll('http://127.0.0.1:3000', url);
    const prelude = `set -euo pipefail
npx() { if [ "$1" = atlas ]; then shift; node "${path.join(ROOT, 'bin/atlas.js')}" "$@"; else command npx "$@"; fi; }
`;
    const r = await bash(prelude + script, dir, env);
    expect({ code: r.code, stderr: r.stderr, stdout: r.code === 0 ? '' : r.stdout }).toEqual({
      code: 0,
      stderr: '',
      stdout: '',
    });
    const out = r.stdout;
    expect(out).toMatch(/WF-001\s+disabled\s+manual\s+Hello/);
    expect(out).toMatch(/Run [0-9a-f-]{36} of WF-001: succeeded/);
    expect(out).toMatch(/manifests valid/);
    expect(out).toContain('Plan of WF-100');
    expect(out).toContain('"message":"nobody: 4200 received"');
    expect(out).toMatch(
      /atlas-webhook-note: accepted, no run: WF-021, WF-100 are not enabled for tenant demo/i,
    );
    expect(out).toContain('WF-100 is enabled for tenant demo (config {"team":"finance"}).');
    expect(out).toMatch(/Run [0-9a-f-]{36} of WF-100: succeeded/);
    expect(out).toContain('finance: 4200 received');
    // The server reloaded the catalogue for WF-100 and logged the delivery that started nothing.
    expect(server!.output()).toContain('Catalogue reloaded (a file changed): added Workflow WF-100.');
    expect(server!.output()).toContain(
      'webhook:accepted, no run: WF-021, WF-100 are not enabled for tenant demo',
    );
  }, 150_000);

  it('keeps serving the last valid catalogue when a change is invalid, and says which one a 404 is from', async () => {
    const mark = server!.output().length;
    await fs.writeFile(
      path.join(dir, 'manifests/workflows/WF-1000-broken.yaml'),
      'apiVersion: atlas/v1\nkind: Workflow\nid: WF-1000\ntrigger: { type: manual }\nsteps:\n  - id: a\n    uses: core.lgo\n',
    );
    await server!.waitFor(/still serving the last valid one/, 20_000);
    expect(server!.output().slice(mark)).toContain(
      'WF-1000-broken.yaml:7:11  Workflow WF-1000: connector "core" has no action "lgo"; did you mean "core.log"?',
    );
    const { stdout: token } = await runToken();
    const res = await fetch(`${url}/v1/workflows/WF-1000`, {
      headers: { authorization: `Bearer ${token.trim()}`, 'x-tenant-id': 'demo' },
    });
    expect(res.status).toBe(404);
    const problem = (await res.json()) as { detail: string };
    expect(problem.detail).toMatch(
      /^There is no workflow "WF-1000" in the catalogue loaded at \d{4}-\d\d-\d\dT[\d:.]+Z; did you mean "WF-100"\?/,
    );
    expect(problem.detail).toContain('SIGHUP');
    const still = await fetch(`${url}/v1/workflows/WF-100`, {
      headers: { authorization: `Bearer ${token.trim()}`, 'x-tenant-id': 'demo' },
    });
    expect(still.status).toBe(200);
  }, 60_000);

  it('answers bad requests with what to do: the config schema, the input wrapper, where JSON breaks', async () => {
    const { stdout } = await runToken();
    const headers = {
      authorization: `Bearer ${stdout.trim()}`,
      'x-tenant-id': 'demo',
      'content-type': 'application/json',
    };
    const config = await fetch(`${url}/v1/workflows/WF-100/enabled`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ enabled: true, config: { team: 42 } }),
    });
    expect(config.status).toBe(422);
    const problem = (await config.json()) as { detail: string; errors: Array<{ message: string }> };
    expect(problem.detail).toBe('The config of WF-100 is invalid.');
    expect(problem.errors[0]!.message).toBe('team must be a string, not an integer');

    const unwrapped = await fetch(`${url}/v1/workflows/WF-001/runs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'Ada' }),
    });
    expect(unwrapped.status).toBe(422);
    expect(((await unwrapped.json()) as { detail: string }).detail).toBe(
      'The body is invalid: /name is not a known field. The run input goes under "input": {"input": {"name": "Ada"}}.',
    );

    const broken = await fetch(`${url}/v1/workflows/WF-001/runs`, {
      method: 'POST',
      headers,
      body: '{\n  "input": {"name": "Ada",}\n}',
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { detail: string }).detail).toMatch(
      /^The body is not valid JSON: .+ at line 2, column 27\.$/,
    );
  });

  async function runToken() {
    const { runCli } = await import('../helpers/cli.ts');
    return runCli(['token', '--tenant', 'demo'], env);
  }
});
