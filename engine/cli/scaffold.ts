/**
 * The files of a new connector package (`atlas connector new <id>`): one action with its
 * schemas, calling a provider through the hub with a named tenant secret; a README; and a test
 * that runs the action against a fake provider with the SDK's test kit (node:test, no other
 * dependency than Atlas).
 */

export interface ScaffoldOptions {
  id: string;
  /** What the package's devDependency on atlas-engine points at (`file:<Atlas's folder>` or a range). */
  engine: string;
  sdkRange: string;
}

const camel = (id: string) => id.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

export function scaffoldFiles({ id, engine, sdkRange }: ScaffoldOptions): Record<string, string> {
  const secret = `${id.toUpperCase()}_API_KEY`;
  const name = `atlas-connector-${id.replace(/_/g, '-')}`;
  const pkg = {
    name,
    version: '0.1.0',
    description: `An Atlas connector for ${id}.`,
    type: 'module',
    exports: { '.': './index.ts' },
    files: ['index.ts', 'lib'],
    scripts: { test: 'node --import atlas-engine/register --test index.test.ts' },
    peerDependencies: { 'atlas-engine': '*' },
    devDependencies: { 'atlas-engine': engine },
  };
  return {
    'package.json': `${JSON.stringify(pkg, null, 2)}\n`,
    'index.ts': `import { defineConnector } from 'atlas-engine/sdk';
import { getItem } from './lib/actions/get-item.ts';

/** The ${id} connector: ATLAS_CONNECTORS=${name} loads it. */
export default defineConnector({
  id: '${id}',
  description: 'Reads items from the ${id} API.',
  // The SDK versions this connector works with: Atlas refuses to start it outside them.
  sdkVersion: '${sdkRange}',
  // The tenant's API key is the secret ${secret} (PUT /v1/secrets/${secret}).
  auth: { type: 'secret', secrets: ['${secret}'] },
  // ATLAS_CONNECTOR_${id.toUpperCase()}_BASE_URL overrides it.
  baseUrl: 'https://api.${id.replace(/_/g, '-')}.example',
  rateLimits: [{ limit: 10, windowMs: 1000 }],
  actions: [getItem],
});
`,
    'lib/actions/get-item.ts': `import { defineAction, expectRecord, expectString } from 'atlas-engine/sdk';

interface Input {
  id: string;
}

interface Output {
  id: string;
  name: string;
}

export const getItem = defineAction<Input, Output>({
  id: 'getItem',
  description: 'Reads one item by its id.',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['id'],
    properties: { id: { type: 'string', minLength: 1, description: 'The item id.' } },
  },
  output: {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'name'],
    properties: {
      id: { type: 'string', description: 'The item id.' },
      name: { type: 'string', description: 'Its name.' },
    },
  },
  example: { id: 'item-1', name: 'First item' },
  readOnly: true,
  async run(ctx, input) {
    // The hub adds the secret as a Bearer token: this code never holds it.
    const res = await ctx.http.request({
      url: \`/items/\${encodeURIComponent(input.id)}\`,
      auth: { bearer: '${secret}' },
    });
    const body = expectRecord(res.json(), 'the item');
    return { id: expectString(body, 'id', 'the item'), name: expectString(body, 'name', 'the item') };
  },
});
`,
    'index.test.ts': `import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { json, runAction, startFakeProvider, type FakeServer } from 'atlas-engine/sdk/testing';
import ${camel(id)} from './index.ts';

const KEY = 'test-key-${id}';
let api: FakeServer;

before(async () => {
  // A fake ${id} API: the item for the right key, 401 otherwise.
  api = await startFakeProvider((req) =>
    req.header('authorization') === \`Bearer \${KEY}\`
      ? json(200, { id: req.path.split('/').at(-1), name: 'First item' })
      : json(401, { error: 'invalid api key' }),
  );
});
after(() => api.close());

const options = () => ({ baseUrl: api.url, secrets: { ${secret}: KEY } });

test('getItem reads an item with the tenant key, in one audited call', async () => {
  const run = await runAction(${camel(id)}, 'getItem', { id: 'item-1' }, options());
  assert.equal(run.ok, true, JSON.stringify(run.error));
  assert.deepEqual(run.output, { id: 'item-1', name: 'First item' });
  assert.equal(run.audit.length, 1);
  assert.equal(run.audit[0]?.path, '/items/item-1');
});

test('a 429 is retried after its Retry-After', async () => {
  api.enqueue(json(429, { error: 'slow down' }, { 'retry-after': '1' }));
  const run = await runAction(${camel(id)}, 'getItem', { id: 'item-2' }, options());
  assert.equal(run.ok, true);
  assert.equal(run.attempts.length, 2);
  assert.ok((run.attempts[0]?.retryInMs ?? 0) >= 1000);
});

test('a wrong key fails as auth, without retries', async () => {
  const run = await runAction(${camel(id)}, 'getItem', { id: 'item-3' }, { ...options(), secrets: { ${secret}: 'wrong' } });
  assert.equal(run.ok, false);
  assert.equal(run.error?.kind, 'auth');
  assert.equal(run.attempts.length, 1);
});

test('an invalid input is refused before any call', async () => {
  const run = await runAction(${camel(id)}, 'getItem', { id: '' }, options());
  assert.equal(run.error?.code, 'invalid_input');
});
`,
    'README.md': `# ${name}

An [Atlas](https://github.com/) connector: \`${id}.getItem\` reads one item from the ${id} API
with the tenant's API key (the tenant secret \`${secret}\`).

\`\`\`sh
npm install          # links atlas-engine (devDependencies) for the SDK and its test kit
npm test             # runs index.test.ts against a fake ${id} API on 127.0.0.1
\`\`\`

Load it in Atlas with \`ATLAS_CONNECTORS=${name}\` (installed beside Atlas) or with its path,
then use it in a workflow:

\`\`\`yaml
steps:
  - id: item
    uses: ${id}.getItem
    with: { id: "{{ input.itemId }}" }
\`\`\`

Add actions in \`lib/actions/\`, each with its input and output JSON Schemas, and list them in
\`index.ts\`. Reach the provider only through \`ctx.http\`; throw \`ConnectorError\` for what went
wrong. \`sdkVersion\` is the range of Atlas SDK versions this package accepts.
`,
  };
}
