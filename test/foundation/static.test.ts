import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.ts';

const run = promisify(execFile);
const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);

// Main stays green: the type check and the linter are part of the suite CI runs.
describe('static checks', () => {
  it('type-checks (npm run typecheck)', async () => {
    const { stdout, stderr } = await run(bin('tsc'), ['--noEmit', '-p', 'tsconfig.json'], {
      cwd: ROOT,
    }).catch((err: { stdout: string; stderr: string }) => err);
    expect(`${stdout}${stderr}`.trim()).toBe('');
  });

  it('lints clean (npm run lint)', async () => {
    const result = await run(bin('biome'), ['check', '.'], { cwd: ROOT }).then(
      () => ({ code: 0, out: '' }),
      (err: { code: number; stdout: string; stderr: string }) => ({
        code: err.code,
        out: `${err.stdout}${err.stderr}`,
      }),
    );
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  });
});
