import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, ROOT, runCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';

describe('atlas CLI', () => {
  it('lists its commands', async () => {
    const r = await runCli(['--help'], cliEnv());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/serve\s+Run the engine/);
    expect(r.stdout).toMatch(/worker\s+/);
    expect(r.stdout).toMatch(/migrate\s+/);
  });

  it('answers an unknown command with exit code 2', async () => {
    const r = await runCli(['frobnicate'], cliEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });

  it('answers an unknown option with usage and exit code 2', async () => {
    const r = await runCli(['serve', '--bogus'], cliEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--bogus'");
  });

  it('exits quietly when its reader closes the pipe early (atlas connectors | head -1)', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/atlas.js'), 'connectors'], {
      cwd: ROOT,
      env: cliEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await new Promise((resolve) => child.stdout.once('data', resolve));
    child.stdout.destroy();
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('rejects a wrong migrate action', async () => {
    const r = await runCli(['migrate', 'sideways'], cliEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown action "sideways"');
  });
});

describe('bad configuration: one sentence naming the variable, exit code 1', () => {
  const database = useTestDatabase();
  let blocker: net.Server;
  let busyPort = 0;
  beforeAll(async () => {
    blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    busyPort = (blocker.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => blocker.close(() => r())));

  const cases: Array<[string, () => Record<string, string>, RegExp]> = [
    [
      'an unparsable DATABASE_URL',
      () => ({ DATABASE_URL: 'http//nope' }),
      /^atlas serve: DATABASE_URL is not a URL/,
    ],
    [
      'an unknown LOG_LEVEL',
      () => ({ LOG_LEVEL: 'chatty' }),
      /^atlas serve: LOG_LEVEL must be one of .* \(got "chatty"\)$/,
    ],
    ['a bad PORT', () => ({ PORT: 'eighty' }), /^atlas serve: PORT must be a whole number/],
    [
      'an unreachable database',
      () => ({ DATABASE_URL: 'postgres://atlas:x@127.0.0.1:1/atlas' }),
      /^atlas serve: DATABASE_URL refused the connection/,
    ],
    [
      'a port in use',
      () => ({ PORT: String(busyPort), DATABASE_URL: database.url }),
      /^atlas serve: PORT \d+ is already in use on 127\.0\.0\.1$/,
    ],
  ];

  it.each(cases)('%s', async (_name, env, message) => {
    const extra = env();
    const r = await runCli(['serve'], cliEnv(extra));
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('atlas serve on an invalid catalogue', () => {
  const database = useTestDatabase();
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-bad-catalogue-'));
    await fs.writeFile(
      path.join(dir, 'wf.yaml'),
      'apiVersion: atlas/v1\nkind: Workflow\nid: WF-777\ntrigger: { type: manual }\nsteps:\n  - id: a\n    uses: core.nope\n',
    );
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('refuses to start and prints the same report as atlas validate', async () => {
    const env = cliEnv({ DATABASE_URL: database.url, ATLAS_MANIFESTS: dir, PORT: '0' });
    const served = await runCli(['serve'], env);
    const validated = await runCli(['validate'], env);
    expect(served.code).toBe(1);
    expect(validated.code).toBe(1);
    const report = validated.stdout.trim() || validated.stderr.trim();
    expect(report).toMatch(
      /wf\.yaml:7:11 +Workflow WF-777: connector "core" has no action "nope"; did you mean "core.noop"\?/,
    );
    expect(served.stderr).toContain(report.split('\n')[0]!.trim());
    expect(served.stderr).toContain('atlas serve: refusing to start: the manifest catalogue is invalid');
  });
});
