/**
 * The API on a real HTTP server on 127.0.0.1, over this test file's database, with a real
 * runtime (no worker: runs stay queued unless a test moves them) and a small catalogue.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { Knex } from 'knex';
import { builtinConnectors } from '../../connectors/index.ts';
import { webhook } from '../../connectors/webhook/index.ts';
import { mintToken } from '../../engine/auth/mint.ts';
import { environment, loadConfig } from '../../engine/config.ts';
import { defineAction, defineConnector } from '../../engine/connector-sdk/index.ts';
import { type RunningEngine, startEngine } from '../../engine/engine.ts';
import { makeLogger } from '../../engine/log.ts';
import { Catalogue, type CatalogueEntry, type Manifest, manifestHash } from '../../engine/manifest/index.ts';
import type { Runtime } from '../../engine/runtime/index.ts';

export const SECRET = 'atlas-test-secret-0123456789abcdef';

const WORKFLOWS: Manifest[] = [
  {
    apiVersion: 'atlas/v1',
    kind: 'Workflow',
    id: 'WF-001',
    name: 'Hello',
    trigger: { type: 'manual' },
    input: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } } },
    steps: [{ id: 'greeting', uses: 'core.noop' }],
  },
  {
    apiVersion: 'atlas/v1',
    kind: 'Workflow',
    id: 'WF-002',
    name: 'Every quarter hour',
    trigger: { type: 'schedule', cron: '*/15 * * * *' },
    steps: [{ id: 'tick', uses: 'core.noop' }],
  },
  {
    apiVersion: 'atlas/v1',
    kind: 'Agent',
    id: 'helper',
    name: 'Helper',
    model: { provider: 'openai', model: 'gpt-4o-mini', apiKeySecret: 'openai-key' },
    instructions: 'Help.',
    tools: ['core.noop'],
  },
];

/** Serves AGENT_TASK jobs in these tests: the agent connector arrives in a later issue. */
const agentTasks = defineConnector({
  id: 'agenttest',
  description: 'Agent tasks for API tests.',
  auth: { type: 'none' },
  actions: [
    defineAction<{ agent: string; task: string }, { answer: string }>({
      id: 'task',
      description: 'Answers a task.',
      jobType: 'AGENT_TASK',
      input: {
        type: 'object',
        required: ['agent', 'task'],
        properties: { agent: { type: 'string' }, task: { type: 'string' }, context: { type: 'object' } },
      },
      output: { type: 'object', properties: { answer: { type: 'string' } } },
      async run(_ctx, input) {
        return { answer: `done: ${input.task}` };
      },
    }),
  ],
});

/** The built-in connectors, plus what these tests need that an installation may not have. */
function testConnectors() {
  const ids = new Set(builtinConnectors.map((c) => c.id));
  return [...builtinConnectors, ...[webhook, agentTasks].filter((c) => !ids.has(c.id))];
}

export function testCatalogue(): Catalogue {
  return new Catalogue(
    WORKFLOWS.map(
      (manifest): CatalogueEntry => ({ manifest, hash: manifestHash(manifest), file: `${manifest.id}.yaml` }),
    ),
  );
}

export interface TokenOptions {
  tenants?: string[];
  sub?: string;
  admin?: boolean;
  ttlSeconds?: number;
}

export interface Api {
  url: string;
  runtime: Runtime;
  token(opts?: TokenOptions): Promise<string>;
  /** fetch with a bearer token and a tenant header when given. */
  call(method: string, path: string, opts?: CallOptions): Promise<Response>;
  close(): Promise<void>;
}

export interface CallOptions {
  token?: string;
  tenant?: string;
  /** JSON-encoded unless it is a string. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiExtras {
  /** The built console to serve (see engine/http/ui.ts). */
  uiDir?: string;
  /** Offer the development sign-in, signed with this secret. */
  devSignIn?: { secret: string };
}

export async function startApi(
  db: Knex,
  env: Record<string, string> = {},
  extra: ApiExtras = {},
): Promise<Api & { engine: RunningEngine }> {
  // Listen first, so that the public URL (signed file links, OAuth redirects) is the real one.
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => handler?.(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const config = loadConfig({
    ATLAS_JWT_SECRET: SECRET,
    ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 4).toString('base64'),
    ATLAS_PUBLIC_URL: url,
    LOG_LEVEL: 'silent',
    ...env,
  });
  // ATLAS_TEST_LOG=1 shows the errors behind a 500 while debugging a test.
  const log = makeLogger(environment().ATLAS_TEST_LOG === '1' ? 'error' : 'silent', false);
  // The API role alone, not listening: this harness serves it on the port above.
  const engine = await startEngine({
    config,
    log,
    http: true,
    worker: false,
    listen: false,
    database: { db },
    ...extra,
    overrides: {
      catalogue: testCatalogue(),
      connectors: testConnectors(),
      tokens: {
        accessToken: async (_tenant, provider) => {
          throw new Error(`no ${provider} connection in API tests`);
        },
      },
    },
  });
  handler = engine.app!.callback();
  return {
    url,
    engine,
    runtime: engine.runtime,
    token: (opts = {}) =>
      mintToken({
        secret: SECRET,
        sub: opts.sub ?? 'tester',
        tenants: opts.tenants ?? [],
        admin: opts.admin ?? false,
        ttlSeconds: opts.ttlSeconds ?? 300,
      }),
    call: (method, path, opts = {}) => call(url, method, path, opts),
    close: async () => {
      await closeServer(server);
      await engine.stop();
    },
  };
}

async function call(url: string, method: string, path: string, opts: CallOptions): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.tenant) headers['x-tenant-id'] = opts.tenant;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  return fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

/** The problem+json of a response, checked to be one. */
export async function problemOf(
  res: Response,
): Promise<{ status: number; title: string; detail?: string; errors?: unknown }> {
  if (!res.headers.get('content-type')?.startsWith('application/problem+json')) {
    throw new Error(`expected problem+json, got ${res.headers.get('content-type')}: ${await res.text()}`);
  }
  return (await res.json()) as { status: number; title: string; detail?: string };
}
