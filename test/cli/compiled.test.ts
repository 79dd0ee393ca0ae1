// Every `atlas` command runs from the compiled build (bin/build-dist.js), by plain `node`
// with no TypeScript loader: a module left as TypeScript (a migration, a lazily loaded
// command) fails to import there. bin/atlas.js chooses the build for every command the
// build stamped, so the stamp must cover every command `atlas --help` lists.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript build script, run by npm before any TypeScript tooling
import { build, COMPILED_COMMANDS } from '../../bin/build-dist.js';
import { type CliResult, cliEnv, ROOT, runProcess } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';

const OUT = path.join(ROOT, 'dist', `.test-cli-${process.pid}`);
/** What bin/atlas.js does once it chose the build: no loader, no tsx. */
const SCRIPT = path.join(OUT, 'atlas.mjs');

/** `atlas ...args` from the build in OUT, by bare node. */
function compiled(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  return runProcess(process.execPath, [SCRIPT, ...args], {
    cwd: ROOT,
    env,
    timeoutMs,
  });
}

describe('every command from the compiled build', () => {
  const database = useTestDatabase();
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    await build({ outdir: OUT });
    await fs.writeFile(
      SCRIPT,
      `const { main } = await import(${JSON.stringify(pathToFileURL(path.join(OUT, 'main.js')).href)});\nprocess.exitCode = await main(process.argv.slice(2));\n`,
    );
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-compiled-'));
    env = cliEnv({
      DATABASE_URL: database.url,
      DIRECT_URL: database.directUrl,
      ATLAS_HOME: tmp,
      ATLAS_JWT_SECRET: 'a-test-secret-of-at-least-thirty-two-bytes!',
      PORT: '0',
    });
  }, 120_000);
  afterAll(async () => {
    await fs.rm(OUT, { recursive: true, force: true });
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('stamps every command atlas --help lists', async () => {
    const help = await compiled(['--help'], env);
    expect(help.code).toBe(0);
    const listed = [...help.stdout.matchAll(/^ {2}([a-z]+) {2}/gm)].map((m) => m[1]);
    expect(listed.length).toBeGreaterThan(15);
    expect(listed.filter((name) => !(name! in COMPILED_COMMANDS))).toEqual([]);
    const stamp = JSON.parse(await fs.readFile(path.join(OUT, 'build.json'), 'utf8')) as {
      files: Array<[string, number, number]>;
      commands: Record<string, number[]>;
      dirs: Array<[string, number]>;
    };
    expect(Object.keys(stamp.commands).sort()).toEqual(Object.keys(COMPILED_COMMANDS).sort());
    // An added migration is not in the build: the directory is stamped too.
    expect(stamp.dirs.map(([dir]) => dir)).toContain('migrations');
    const of = (name: string) => stamp.commands[name]!.map((i) => stamp.files[i]![0]);
    expect(of('migrate')).toContain('migrations/001_tenants.ts');
    expect(of('run')).toContain('engine/cli/run.ts');
    // A bundled package is stamped by its package.json, which npm writes on every install.
    expect(of('tenants')).toContain('node_modules/knex/package.json');
    expect(
      of('tenants').filter((f) => f.startsWith('node_modules/knex/') && !f.endsWith('package.json')),
    ).toEqual([]);
  });

  it('runs the database commands', async () => {
    const ok = async (args: string[], out: RegExp, stderr = '') => {
      const r = await compiled(args, env);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr });
      expect(r.stdout).toMatch(out);
      return r.stdout;
    };
    // Rolling back and applying the newest migration imports its module.
    const newest = (await fs.readdir(path.join(ROOT, 'migrations'))).sort().at(-1)!.replace(/\.ts$/, '');
    await ok(['migrate', 'down'], new RegExp(`^rolled back ${newest}$`, 'm'));
    await ok(['migrate', 'status'], new RegExp(`^pending  ${newest}$`, 'm'));
    await ok(['migrate', 'up'], new RegExp(`^applied ${newest}$`, 'm'));
    await ok(['tenants', 'add', 'acme'], /Added tenant acme\./);
    await ok(['tenants', 'list'], /^acme {2}active/m);
    await ok(['token', '--tenant', 'acme'], /^ey[\w-]+\.[\w-]+\.[\w-]+\n$/);
    await ok(['workflows', 'list', '--tenant', 'acme'], /WF-001/);
    const run = await ok(
      ['run', 'WF-001', '--tenant', 'acme', '--input', '{"name":"Ada"}', '--wait'],
      /^Run [0-9a-f-]{36} of WF-001: succeeded$/m,
    );
    expect(run).toContain('Hello, Ada!');
    await ok(['runs', 'list', '--tenant', 'acme'], /WF-001 {2}succeeded/);
    await ok(['runs', 'show', 'last', '--tenant', 'acme'], /WF-001: succeeded/);
    await ok(['audit', 'verify'], /./);
    await ok(['files', 'list', '--tenant', 'acme'], /^$/, '0 of 500 files, 0.0 of 500.0 MB used\n');
    await ok(['kb', 'search', 'hello', '--tenant', 'acme'], /./);
    const missing = await compiled(['jobs', 'show', '00000000-0000-4000-8000-000000000000'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  }, 180_000);

  it('runs the commands that read or write files', async () => {
    const schemas = path.join(tmp, 'schemas');
    for (const args of [
      ['validate', 'manifests/'],
      ['schema', schemas],
      ['connectors', 'stripe'],
      ['connector', 'new', 'acme_crm', '--dir', path.join(tmp, 'acme_crm')],
      ['import', 'n8n', 'test/fixtures/n8n/parallel-merge.json', '--out', path.join(tmp, 'imported')],
      ['--version'],
    ]) {
      const r = await compiled(args, env);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
    }
    expect(await fs.readdir(schemas)).toContain('workflow.schema.json');
  }, 120_000);

  it.each([
    ['serve', /Atlas is listening on http:\/\/127\.0\.0\.1:\d+/],
    ['worker', /Atlas worker started/],
  ])(
    '%s starts and stops',
    async (name, ready) => {
      const child = spawn(process.execPath, [SCRIPT, name], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      const exited = new Promise<string>((resolve) =>
        child.once('exit', (code, signal) => resolve(`${code ?? signal}: ${output}`)),
      );
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${ready} in:\n${output}`)), 60_000);
        const onData = (d: Buffer) => {
          output += d.toString();
          if (ready.test(output)) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        exited.then(() => reject(new Error(`exited before ${ready}:\n${output}`)));
      });
      child.kill('SIGTERM');
      expect(await exited).toMatch(/^0: /);
    },
    90_000,
  );
});
