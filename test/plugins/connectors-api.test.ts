/**
 * `GET /v1/connectors`: every connector the engine runs, built-in or plugin, with its actions;
 * `GET /v1/connectors/{id}` adds the actions' schemas. Credentials show by name only.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../engine/config.ts';
import { startEngine } from '../../engine/engine.ts';
import { silentLogger } from '../../engine/log.ts';
import { cliEnv, ROOT, runCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { poll } from '../helpers/poll.ts';
import { type ApiEngine, startApiEngine } from '../secrets/engine.ts';

interface ConnectorView {
  id: string;
  auth: Record<string, unknown>;
  origin: { type: string; source?: string; sdkVersion?: string; package?: { name: string } };
  actions: Array<{ id: string; uses: string; input?: unknown; jobType?: string }>;
}

describe('GET /v1/connectors', () => {
  const database = useTestDatabase();
  let api: ApiEngine;
  beforeAll(async () => {
    api = await startApiEngine(database);
  });
  afterAll(() => api?.stop());

  it('lists the built-in connectors with their actions and how they authenticate', async () => {
    const res = await api.call('GET', '/v1/connectors');
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: ConnectorView[] };
    const ids = items.map((c) => c.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(expect.arrayContaining(['http', 'stripe', 'google', 'webhook']));
    const http = items.find((c) => c.id === 'http')!;
    expect(http.origin).toEqual({ type: 'builtin' });
    expect(http.actions).toEqual([expect.objectContaining({ id: 'request', uses: 'http.request' })]);
    expect(http.actions[0]!.input).toBeUndefined();
    expect(items.find((c) => c.id === 'google')!.auth).toEqual({ type: 'oauth', provider: 'google' });
    const webhook = items.find((c) => c.id === 'webhook')!;
    expect(webhook.actions.find((a) => a.id === 'send')!.jobType).toBe('WEBHOOK_SEND');
  });

  it('shows one connector with its schemas, and answers 404 for an unknown one', async () => {
    const res = await api.call('GET', '/v1/connectors/http');
    expect(res.status).toBe(200);
    const http = (await res.json()) as ConnectorView;
    expect(http.actions[0]!.input).toMatchObject({ type: 'object', required: ['url'] });
    const missing = await api.call('GET', '/v1/connectors/nope');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect(((await missing.json()) as { detail: string }).detail).toBe('There is no connector "nope".');
  });

  it('needs a token', async () => {
    const res = await fetch(`${api.url}/v1/connectors`);
    expect(res.status).toBe(401);
  });
});

const ECHO = './test/fixtures/plugins/echo.ts';
const SAY = `apiVersion: atlas/v1
kind: Workflow
id: WF-950
trigger: { type: manual }
steps:
  - id: say
    uses: echo.say
    with: { text: "{{ input.text }}" }
`;

describe('a plugin connector from ATLAS_CONNECTORS', () => {
  const database = useTestDatabase();
  let api: ApiEngine;
  beforeAll(async () => {
    api = await startApiEngine(database, {
      env: { ATLAS_CONNECTORS: path.join(ROOT, ECHO) },
      manifests: { 'WF-950.yaml': SAY },
    });
  });
  afterAll(() => api?.stop());

  it('is listed with its origin, and a workflow runs its action', async () => {
    const res = await api.call('GET', '/v1/connectors');
    const { items } = (await res.json()) as { items: ConnectorView[] };
    const echo = items.find((c) => c.id === 'echo')!;
    expect(echo.origin).toMatchObject({
      type: 'plugin',
      source: path.join(ROOT, ECHO),
      sdkVersion: '^1.0.0',
    });
    expect(echo.actions.map((a) => a.uses)).toEqual(['echo.say']);
    const started = await api.call('POST', '/v1/workflows/WF-950/runs', { body: { input: { text: 'hi' } } });
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: string };
    const run = await poll(async () => {
      const body = (await (await api.call('GET', `/v1/runs/${id}`)).json()) as {
        status: string;
        steps: Array<{ attempts: Array<{ output: unknown }> }>;
      };
      return ['succeeded', 'failed'].includes(body.status) ? body : undefined;
    });
    expect(run.status).toBe('succeeded');
    expect(run.steps[0]!.attempts[0]!.output).toEqual({ text: 'hi', tenant: 'acme' });
  });

  it('refuses to start the engine with a plugin that throws, naming it', async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-plugins-'));
    const config = loadConfig({
      DATABASE_URL: database.url,
      ATLAS_HOME: home,
      ATLAS_MANIFESTS: path.join(ROOT, 'manifests'),
      ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      ATLAS_CONNECTORS: './test/fixtures/plugins/throws.ts',
    });
    await expect(
      startEngine({ config, log: silentLogger, http: false, worker: false, database }),
    ).rejects.toThrow(
      'connector plugin "./test/fixtures/plugins/throws.ts" failed to load: the echo client needs ECHO_REGION',
    );
    await fs.rm(home, { recursive: true, force: true });
  });
});

describe('plugins in the commands', () => {
  it('atlas connectors lists a plugin, atlas validate checks its input', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-plugin-validate-'));
    await fs.writeFile(path.join(dir, 'wf.yaml'), SAY.replace('"{{ input.text }}"', '""'));
    const env = cliEnv({ ATLAS_CONNECTORS: ECHO, ATLAS_FROM_SOURCE: '1' });
    const listed = await runCli(['connectors', 'echo'], env);
    expect(listed.stderr).toBe('');
    expect(listed.stdout).toContain('echo.say');
    const checked = await runCli(['validate', dir], env);
    expect(checked.code).toBe(1);
    expect(checked.stderr).toContain(
      'wf.yaml:8:19  Workflow WF-950: with.text must have at least 1 character (input of echo.say)',
    );
    const refused = await runCli(['validate', dir], cliEnv({ ATLAS_CONNECTORS: './nowhere.ts' }));
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(
      `atlas validate: connector plugin "./nowhere.ts" was not found: ${path.join(ROOT, 'nowhere.ts')} does not exist`,
    );
    await fs.rm(dir, { recursive: true, force: true });
  }, 60_000);
});
