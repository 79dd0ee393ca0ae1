/**
 * Every way Atlas's processes are started gives node the same heap limit: V8 sizes its heap's
 * growth by that limit, so the server's memory under load depends on it (README, Performance).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cliEnv, ROOT } from '../helpers/cli.ts';

const HEAP = '--max-old-space-size=1024';
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

describe('the heap limit', () => {
  it('is in npm start, the atlas command, the Procfile and the image', () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(scripts.start).toBe(`node ${HEAP} bin/atlas.js serve`);
    expect(read('bin/atlas.js').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${HEAP}`);
    const procfile = read('deploy/Procfile').trim().split('\n');
    expect(procfile.length).toBeGreaterThan(0);
    for (const line of procfile) expect(line).toMatch(new RegExp(`^[a-z]+: node ${HEAP} bin/atlas\\.js `));
    expect(read('deploy/Dockerfile')).toContain(`ENV NODE_OPTIONS=${HEAP}`);
  });

  it('reaches V8 when the atlas command runs as a program', async () => {
    const { stdout } = await promisify(execFile)(path.join(ROOT, 'bin/atlas.js'), ['--help'], {
      cwd: ROOT,
      env: cliEnv({ NODE_OPTIONS: '--require=./test/helpers/heap-probe.cjs' }),
    });
    expect(stdout).toMatch(/^heap limit: 10\d\d MB$/m);
  });
});
