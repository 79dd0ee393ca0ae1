import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.ts';

/** Who may call each builder of the engine's parts: one wiring, used by everything else. */
const BUILDERS: Record<string, string[]> = {
  makeServices: ['engine/engine.ts'],
  makeRuntime: ['engine/services.ts'],
  makeApp: ['engine/engine.ts'],
  makeWebhooks: ['engine/engine.ts'],
  // bench/engine.ts measures raw graphile-worker, the baseline, with a runner of its own; the
  // queue worker's runner is started (and replaced when its pool ends) by its supervisor.
  startRunner: ['engine/roles.ts', 'engine/queue/supervisor.ts', 'bench/engine.ts'],
};

describe('one wiring', () => {
  it('builds the engine in engine/engine.ts alone: the CLI, tests and benchmarks use it', async () => {
    const calls: string[] = [];
    for (const dir of ['engine', 'bench', 'test']) {
      for (const file of await fs.readdir(path.join(ROOT, dir), { recursive: true })) {
        if (!file.endsWith('.ts')) continue;
        const relative = path.join(dir, file);
        // Code only: a comment may show how a builder is called.
        const text = (await fs.readFile(path.join(ROOT, relative), 'utf8'))
          .split('\n')
          .filter((line) => !/^\s*(\*|\/\/)/.test(line))
          .join('\n');
        for (const [builder, allowed] of Object.entries(BUILDERS)) {
          const call = new RegExp(`(?<!function )\\b${builder}\\(`);
          if (call.test(text) && !allowed.includes(relative)) calls.push(`${relative} calls ${builder}`);
        }
      }
    }
    expect(calls).toEqual([]);
  });
});
