// The compiled CLI (bin/build-dist.js) behaves as the sources do, and a build records what
// each compiled command was built from so bin/atlas.js never runs a stale one.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript build script, run by npm before any TypeScript tooling
import { build, COMPILED_COMMANDS } from '../../bin/build-dist.js';

const ROOT = join(import.meta.dirname, '../..');
const OUT = join(ROOT, 'dist', `.test-${process.pid}`);
const run = promisify(execFile);
afterAll(() => rmSync(OUT, { recursive: true, force: true }));

interface Stamp {
  entry: string;
  files: Array<[string, number, number]>;
  commands: Record<string, number[]>;
}

async function node(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run('node', args, { cwd: ROOT, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('compiled CLI', () => {
  it('records, per command, the sources it was compiled from', async () => {
    await build({ outdir: OUT });
    const stamp = JSON.parse(readFileSync(join(OUT, 'build.json'), 'utf8')) as Stamp;
    expect(Object.keys(stamp.commands).sort()).toEqual(Object.keys(COMPILED_COMMANDS).sort());
    const validate = stamp.commands.validate!.map((i) => stamp.files[i]![0]);
    expect(validate).toContain('engine/cli/validate.ts');
    expect(validate).toContain('engine/manifest/validators.gen.js');
    expect(validate).toContain('connectors/http/index.ts');
    // validate loads neither the server nor the runtime nor a provider SDK.
    expect(
      validate.filter((f) =>
        /^engine\/(http|runtime|db|queue)\/|node_modules\/(koa|pg|stripe|openai)\//.test(f),
      ),
    ).toEqual([]);
  }, 60_000);

  it('validates exactly as the sources do', async () => {
    const main = pathToFileURL(join(OUT, 'main.js')).href;
    const script = `const { main } = await import(${JSON.stringify(main)}); process.exitCode = await main(process.argv.slice(1));`;
    for (const args of [
      ['validate', 'manifests/'],
      ['validate', 'test/fixtures/manifests/invalid', '--format', 'json'],
      ['validate', 'test/fixtures/manifests/invalid'],
    ]) {
      const compiled = await node(['--input-type=module', '-e', script, ...args]);
      const source = await node(['bin/atlas.js', ...args], { ATLAS_FROM_SOURCE: '1' });
      expect(compiled).toEqual(source);
    }
  }, 60_000);

  it('loads a TypeScript connector plugin as the sources do (through tsx)', async () => {
    const main = pathToFileURL(join(OUT, 'main.js')).href;
    const script = `const { main } = await import(${JSON.stringify(main)}); process.exitCode = await main(process.argv.slice(1));`;
    const env = { ATLAS_CONNECTORS: './test/fixtures/plugins/echo.ts' };
    const compiled = await node(['--input-type=module', '-e', script, 'connectors', 'echo'], env);
    const source = await node(['bin/atlas.js', 'connectors', 'echo'], { ...env, ATLAS_FROM_SOURCE: '1' });
    expect(compiled).toEqual(source);
    expect(compiled.stdout).toContain('echo.say');
  }, 60_000);
});
