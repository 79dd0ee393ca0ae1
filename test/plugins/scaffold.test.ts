/**
 * The author's path end to end: `atlas connector new acme` writes a package whose own test
 * passes when run (`npm test`, node:test with the SDK's test kit); Atlas then loads it through
 * ATLAS_CONNECTORS and a workflow runs `acme.getItem` against a fake Acme API.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../engine/cli/main.ts';
import { type FakeServer, json, startFake } from '../fakes/server.ts';
import { cliEnv, ROOT } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';

function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('atlas connector new', () => {
  const database = useTestDatabase();
  let dir: string;
  let pkg: string;
  let acme: FakeServer;
  let te: TestEngine | undefined;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-scaffold-'));
    pkg = path.join(dir, 'atlas-connector-acme');
    acme = await startFake((req) =>
      req.header('authorization') === 'Bearer acme-live-key'
        ? json(200, { id: req.path.split('/').at(-1), name: 'Blue widget' })
        : json(401, { error: 'invalid api key' }),
    );
  });
  afterAll(async () => {
    await te?.stop();
    await acme?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('writes a package with one action, its schemas, a README and a test', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env: {}, cwd: dir };
    expect(await main(['connector', 'new', 'acme'], io)).toBe(0);
    expect(err).toEqual([]);
    expect(out[0]).toBe(
      `wrote ${pkg}: README.md, index.test.ts, index.ts, lib/actions/get-item.ts, package.json`,
    );
    const manifest = JSON.parse(await fs.readFile(path.join(pkg, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({
      name: 'atlas-connector-acme',
      devDependencies: { 'atlas-engine': `file:${ROOT}` },
    });
    // A second time, or a bad id: one sentence, exit 1.
    expect(await main(['connector', 'new', 'acme'], io)).toBe(1);
    expect(await main(['connector', 'new', 'Acme!'], io)).toBe(1);
    expect(err).toEqual([
      `atlas connector: ${pkg} already exists; choose another --dir or remove it`,
      'atlas connector: the connector id "Acme!" must be lower case letters, digits and _, starting with a letter',
    ]);
  });

  it('its own test passes when run with npm test', async () => {
    // What `npm install` does with the `file:` devDependency: link Atlas into node_modules.
    await fs.mkdir(path.join(pkg, 'node_modules'));
    await fs.symlink(ROOT, path.join(pkg, 'node_modules/atlas-engine'), 'dir');
    const result = await run('npm', ['test'], pkg);
    expect(result.output).toMatch(/# pass 4\n# fail 0/);
    expect(result.code).toBe(0);
  }, 90_000);

  it('loads through ATLAS_CONNECTORS and a workflow uses acme.getItem', async () => {
    te = await startTestEngine(database, {
      env: {
        ATLAS_CONNECTORS: pkg,
        ATLAS_CONNECTOR_ACME_BASE_URL: acme.url,
      },
      manifests: {
        'WF-970.yaml': `apiVersion: atlas/v1
kind: Workflow
id: WF-970
trigger: { type: manual }
steps:
  - id: item
    uses: acme.getItem
    with: { id: "{{ input.itemId }}" }
`,
      },
    });
    await te.startWorker();
    await te.services.secrets.put('acme', 'ACME_API_KEY', 'acme-live-key');
    const run = await te.runToEnd('WF-970', { itemId: 'w-7' });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(run.steps[0]!.attempts[0]!.output).toEqual({ id: 'w-7', name: 'Blue widget' });
    expect(te.services.plugins).toEqual([
      expect.objectContaining({ id: 'acme', package: { name: 'atlas-connector-acme', version: '0.1.0' } }),
    ]);
  });
});
