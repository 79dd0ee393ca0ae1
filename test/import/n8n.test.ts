/**
 * `atlas import n8n`: the fixture corpus converts, every manifest written validates, the same
 * input gives byte-identical output, and hostile exports are refused or reported without a
 * crash and without anything injected into a manifest.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { builtinConnectors } from '../../connectors/index.ts';
import type { CliIO } from '../../engine/cli/command.ts';
import { main } from '../../engine/cli/main.ts';
import { type ImportResult, importN8n } from '../../engine/import/n8n/index.ts';
import { type ManifestSource, validateSources } from '../../engine/manifest/index.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/n8n');
const CATALOGUE = [path.join(ROOT, 'manifests')];

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-n8n-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function shippedSources(): Promise<ManifestSource[]> {
  const files = (await fs.readdir(path.join(ROOT, 'manifests'), { recursive: true }))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  return Promise.all(
    files.map(async (f) => ({ file: f, text: await fs.readFile(path.join(ROOT, 'manifests', f), 'utf8') })),
  );
}

/** Every written file, validated with the shipped catalogue. */
async function expectValid(result: ImportResult): Promise<void> {
  const sources = [...(await shippedSources()), ...result.files.map((f) => ({ file: f.name, text: f.text }))];
  const { errors } = validateSources(sources, { connectors: builtinConnectors });
  expect(errors.map((e) => `${e.file}: ${e.message}`)).toEqual([]);
}

async function importOne(name: string, exported: unknown): Promise<ImportResult> {
  const file = path.join(tmp, name);
  await fs.writeFile(file, typeof exported === 'string' ? exported : JSON.stringify(exported));
  return importN8n({ paths: [file], idFrom: 500, catalogue: CATALOGUE });
}

const node = (name: string, type: string, parameters: Record<string, unknown> = {}, typeVersion = 1) => ({
  name,
  type: `n8n-nodes-base.${type}`,
  typeVersion,
  parameters,
  position: [0, 0],
});
const chain = (...names: string[]) =>
  Object.fromEntries(
    names.slice(0, -1).map((n, i) => [n, { main: [[{ node: names[i + 1], type: 'main', index: 0 }]] }]),
  );

describe('the fixture corpus', () => {
  it('converts each export as expected, and every manifest validates', async () => {
    const result = await importN8n({ paths: [FIXTURES], idFrom: 100, catalogue: CATALOGUE });
    const status = Object.fromEntries(
      result.report.workflows.map((w) => [path.basename(w.source), w.status]),
    );
    expect(status).toEqual({
      'benchmark-webhook-set-if-noop.json': 'converted',
      'langchain-agent-openai.json': 'converted',
      'legacy-cron-respond.json': 'converted',
      'loop-wait-subworkflow.json': 'partial',
      'manual-stripe-customer.json': 'converted',
      'parallel-merge.json': 'converted',
      'partial-code-node.json': 'partial',
      'schedule-rates-to-telegram.json': 'converted',
      'stripe-to-telegram.json': 'converted',
      'subworkflow-call-child.json': 'converted',
      'subworkflow-call-parent.json': 'converted',
      'subworkflow-set-v2-http.json': 'converted',
      'telegram-echo-if-v1.json': 'converted',
      'webhook-email.json': 'converted',
      'webhook-respond-node.json': 'converted',
      'webhook-split-compute-aggregate.json': 'converted',
      'webhook-stop-and-error.json': 'converted',
      'webhook-switch-route.json': 'converted',
      'webhook-to-http-bearer.json': 'converted',
    });
    expect(result.report.totals).toEqual({ workflows: 19, converted: 17, partial: 2, refused: 0 });
    await expectValid(result);
  });

  it('reads the exports of a real n8n (2.41.1: import:workflow, then export:workflow) as the files it was given', async () => {
    const real = await importN8n({
      paths: [path.join(ROOT, 'test/fixtures/n8n-export-2.41.1')],
      idFrom: 100,
      catalogue: CATALOGUE,
    });
    const given = await importN8n({ paths: [FIXTURES], idFrom: 100, catalogue: CATALOGUE });
    expect(real.report.totals).toEqual(given.report.totals);
    // Ids follow file order, which differs between the two folders: compare by workflow name.
    const shape = (result: ImportResult) => {
      const docs = result.files.filter((f) => f.name.startsWith('workflows/')).map((f) => parse(f.text));
      const names = new Map(docs.map((d) => [d.id as string, d.name as string]));
      const byName = (v: unknown): unknown =>
        typeof v === 'string' && names.has(v)
          ? names.get(v)
          : Array.isArray(v)
            ? v.map(byName)
            : v && typeof v === 'object'
              ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, byName(x)]))
              : v;
      return Object.fromEntries(
        docs.map(({ id: _id, description: _d, ...rest }) => [rest.name, byName(rest)]),
      );
    };
    expect(shape(real)).toEqual(shape(given));
    await expectValid(real);
  });

  it('keeps node names as step names, notes as comments, and lists what to set up', async () => {
    const result = await importN8n({ paths: [FIXTURES], idFrom: 100, catalogue: CATALOGUE });
    const partial = result.report.workflows.find((w) => w.source.endsWith('partial-code-node.json'))!;
    expect(partial.untranslated.map((u) => [u.node, u.type, u.upstream ?? false])).toEqual([
      ['Code', 'n8n-nodes-base.code', false],
      ['Tell', 'n8n-nodes-base.telegram', true],
    ]);
    const text = result.files.find((f) => f.name === `workflows/${partial.id}-enrich-with-code.yaml`)!.text;
    expect(text).toContain('# n8n note "Sticky Note":\n# ## Enrichment\n# Uppercases the user\'s name.');
    expect(text).toContain('# NOT TRANSLATED: n8n-nodes-base.code v2');
    const loop = result.report.workflows.find((w) => w.source.endsWith('loop-wait-subworkflow.json'))!;
    expect(loop.untranslated.map((u) => [u.node, u.message.slice(0, 40)])).toEqual([
      ['Loop Over Items', 'it loops over items that are one value i'],
      ['Call child', 'it calls the n8n workflow 123, which is '],
    ]);
    const stripe = result.report.workflows.find((w) => w.source.endsWith('manual-stripe-customer.json'))!;
    expect(stripe.secrets.map((s) => s.name)).toEqual(['STRIPE_SECRET_KEY', 'TELEGRAM_BOT_TOKEN']);
    const bench = result.files.find((f) => f.name.includes('benchmark'))!;
    expect(parse(bench.text).steps.map((s: { id: string; name: string }) => [s.id, s.name])).toEqual([
      ['editFields', 'Edit Fields'],
      ['big', 'Big'],
      ['small', 'Small'],
    ]);
    const route = parse(result.files.find((f) => f.name === 'webhooks/n8n-answered.yaml')!.text);
    expect(route.response).toEqual({ status: 202, body: { status: 'queued' } });
    expect(result.report.untranslatedTypes.map((t) => t.type)).not.toContain('n8n-nodes-base.telegram');
  });

  it('gives byte-identical output when run twice, through the CLI too', async () => {
    const a = await importN8n({ paths: [FIXTURES], idFrom: 100, catalogue: CATALOGUE });
    const b = await importN8n({ paths: [FIXTURES], idFrom: 100, catalogue: CATALOGUE });
    expect(b).toEqual(a);
    const lines: string[][] = [[], []];
    for (const [i, out] of ['one', 'two'].entries()) {
      const io: CliIO = { out: (l) => lines[i]!.push(l), err: (l) => lines[i]!.push(l), env: {}, cwd: ROOT };
      const code = await main(['import', 'n8n', 'test/fixtures/n8n', '--out', path.join(tmp, out)], io);
      expect(code).toBe(1); // two workflows are partial
    }
    const files = (dir: string) => fs.readdir(dir, { recursive: true }).then((l) => l.sort());
    const names = await files(path.join(tmp, 'one'));
    expect(names).toEqual(await files(path.join(tmp, 'two')));
    expect(names.filter((n) => n.endsWith('.yaml'))).toHaveLength(19 + 9);
    for (const name of names.filter((n) => n.endsWith('.yaml'))) {
      const [x, y] = await Promise.all(['one', 'two'].map((d) => fs.readFile(path.join(tmp, d, name))));
      expect(x!.equals(y!)).toBe(true);
    }
    expect(lines[0]!.join('\n').replaceAll('/one/', '/x/')).toBe(
      lines[1]!.join('\n').replaceAll('/two/', '/x/'),
    );
    expect(lines[0]!.join('\n')).toContain('\n19 workflows: 17 converted fully, 2 partially, 0 refused.\n');
  });

  it('prints the report as JSON, and refuses bad usage in one sentence', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIO = { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, cwd: ROOT };
    const file = 'test/fixtures/n8n/stripe-to-telegram.json';
    expect(await main(['import', 'n8n', file, '--out', path.join(tmp, 'json'), '--format', 'json'], io)).toBe(
      0,
    );
    const report = JSON.parse(out.join('\n'));
    expect(report.totals).toEqual({ workflows: 1, converted: 1, partial: 0, refused: 0 });
    expect(report.workflows[0]).toMatchObject({ source: file, status: 'converted', id: 'WF-100' });
    expect(await main(['import', 'zapier', file], io)).toBe(2);
    expect(err[0]).toBe('atlas import: cannot import from "zapier"; only n8n');
    expect(await main(['import', 'n8n', 'no/such/file.json'], io)).toBe(1);
    expect(err.at(-1)).toBe(`atlas import: ${path.join(ROOT, 'no/such/file.json')} does not exist`);
    expect(await main(['import', 'n8n', file, '--id-from', 'x'], io)).toBe(2);
  });
});

describe('hostile exports', () => {
  it('refuses what is not an n8n export, and reads the rest of the files', async () => {
    await fs.mkdir(path.join(tmp, 'mixed'));
    await fs.writeFile(path.join(tmp, 'mixed', 'a.json'), '{"hello": "world"}');
    await fs.writeFile(path.join(tmp, 'mixed', 'b.json'), '{"nodes": [');
    await fs.writeFile(
      path.join(tmp, 'mixed', 'c.json'),
      JSON.stringify({ nodes: [{ name: 'x' }], connections: {} }),
    );
    await fs.copyFile(path.join(FIXTURES, 'stripe-to-telegram.json'), path.join(tmp, 'mixed', 'd.json'));
    const result = await importN8n({ paths: [path.join(tmp, 'mixed')], catalogue: CATALOGUE });
    expect(result.report.workflows.map((w) => [w.status, w.reason])).toEqual([
      ['refused', expect.stringContaining('this is not an n8n workflow export')],
      ['refused', expect.stringMatching(/^not JSON/)],
      ['refused', 'node "x" has no valid type'],
      ['converted', undefined],
    ]);
    await expectValid(result);
  });

  it('refuses a cycle, and 10,000 nodes, quickly', async () => {
    const cycle = await importOne('cycle.json', {
      name: 'Cycle',
      nodes: [node('Start', 'manualTrigger'), node('A', 'noOp'), node('B', 'noOp')],
      connections: { ...chain('Start', 'A', 'B'), B: { main: [[{ node: 'A', type: 'main', index: 0 }]] } },
    });
    expect(cycle.report.workflows[0]).toMatchObject({
      status: 'refused',
      reason: expect.stringContaining('cycle through "A", "B"'),
    });
    const nodes = Array.from({ length: 10_000 }, (_, i) => node(`N${i}`, 'noOp'));
    const started = Date.now();
    const huge = await importOne('huge.json', { name: 'Huge', nodes, connections: {} });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(huge.report.workflows[0]).toMatchObject({
      status: 'refused',
      reason: expect.stringContaining('10000 nodes'),
    });
    expect(huge.files).toEqual([]);
  });

  it('fails an unknown node version or type explicitly instead of guessing', async () => {
    const result = await importOne('versions.json', {
      name: 'Versions',
      nodes: [
        node('Start', 'manualTrigger'),
        node('Future set', 'set', {}, 99),
        node('Airtable', 'airtable'),
      ],
      connections: chain('Start', 'Future set', 'Airtable'),
    });
    const [w] = result.report.workflows;
    expect(w!.status).toBe('partial');
    expect(w!.untranslated.map((u) => u.message)).toEqual([
      'version 99 of this node is not known to the importer (it knows 1 to 3.4)',
      'no Atlas connector for this node type; call its API with http.request or write a connector',
    ]);
    await expectValid(result);
  });

  it('keeps the first items of a split list with Limit, and loops the nodes after it over them', async () => {
    const result = await importOne('limit.json', {
      name: 'First two',
      nodes: [
        node('Start', 'executeWorkflowTrigger'),
        node('Split', 'splitOut', { fieldToSplitOut: 'rows' }),
        node('Two', 'limit', { maxItems: 2 }),
        node(
          'Shout',
          'set',
          {
            assignments: {
              assignments: [{ name: 'loud', type: 'string', value: '={{ $json.name.toUpperCase() }}' }],
            },
          },
          3.4,
        ),
      ],
      connections: chain('Start', 'Split', 'Two', 'Shout'),
    });
    const [w] = result.report.workflows;
    expect(w!.status).toBe('converted');
    const steps = parse(result.files[0]!.text).steps;
    expect(steps[0]).toMatchObject({
      id: 'two',
      uses: 'core.set',
      with: { value: { $expr: { slice: [{ var: 'input.rows' }, 0, 2] } } },
    });
    expect(steps[1]).toMatchObject({ id: 'shout', forEach: '{{ steps.two.output }}' });
    await expectValid(result);
  });

  it('leaves a node whose step does not validate as an explicit failing step, not a refused workflow', async () => {
    const result = await importOne('invalid-step.json', {
      name: 'Empty URL',
      nodes: [
        node('Start', 'manualTrigger'),
        node('Fetch', 'httpRequest', { url: '', options: {} }, 4.2),
        node('Done', 'noOp'),
      ],
      connections: chain('Start', 'Fetch', 'Done'),
    });
    const [w] = result.report.workflows;
    expect(w!.status).toBe('partial');
    expect(w!.untranslated).toEqual([
      expect.objectContaining({
        node: 'Fetch',
        message: expect.stringContaining('the step it became does not validate'),
      }),
    ]);
    expect(parse(result.files[0]!.text).steps.map((s: { uses: string }) => s.uses)).toEqual([
      'core.fail',
      'core.noop',
    ]);
    await expectValid(result);
  });

  it('never lets names, notes or expressions break out of YAML or into templates', async () => {
    const evilName = 'Evil"\nkind: Agent\n# {{ secrets.STRIPE_SECRET_KEY }}';
    const result = await importOne('evil.json', {
      name: "Evil ' workflow\nid: WF-001",
      nodes: [
        node('Hook', 'webhook', { httpMethod: 'POST', path: '../../etc/passwd' }, 2),
        node(evilName, 'set', {
          values: {
            string: [
              { name: 'quote', value: '=": {{ $json.body.x }}\n  injected: true' },
              { name: 'plain', value: 'x: y\n- z' },
            ],
          },
          keepOnlySet: true,
        }),
        node('Literal braces', 'set', {
          values: { string: [{ name: 'a', value: '{{ secrets.STRIPE_SECRET_KEY }}' }] },
        }),
        node('Closing braces', 'set', {
          values: { string: [{ name: 'a', value: '={{ $json.quote }}}}{{ 1 }}' }] },
        }),
        node('Proto', 'set', { values: { string: [{ name: '__proto__.polluted', value: 'yes' }] } }),
        node('Code in braces', 'set', {
          values: { string: [{ name: 'a', value: '={{ require("fs").readFileSync("/etc/passwd") }}' }] },
        }),
        {
          ...node('Note', 'stickyNote', { content: 'line one\u2028steps: []\rid: WF-002\n---\n...' }),
          position: [5, 5],
        },
      ],
      connections: chain('Hook', evilName, 'Literal braces', 'Closing braces', 'Proto', 'Code in braces'),
    });
    const [w] = result.report.workflows;
    expect(w!.reason ?? '').toBe('');
    expect(w!.status).toBe('partial');
    expect(w!.untranslated.map((u) => u.node)).toEqual([
      'Literal braces',
      'Closing braces',
      'Proto',
      'Code in braces',
    ]);
    await expectValid(result);
    const wf = parse(result.files.find((f) => f.name.startsWith('workflows/'))!.text);
    expect(Object.keys(wf)).toEqual(['apiVersion', 'kind', 'id', 'name', 'description', 'trigger', 'steps']);
    // Display names are kept on one line.
    expect([wf.kind, wf.id, wf.name]).toEqual(['Workflow', 'WF-500', "Evil ' workflow id: WF-001"]);
    expect(wf.steps[0]).toMatchObject({
      name: 'Evil" kind: Agent # {{ secrets.STRIPE_SECRET_KEY }}',
      with: { value: { quote: '": {{ trigger.body.x }}\n  injected: true', plain: 'x: y\n- z' } },
    });
    expect(wf.steps.slice(1).map((s: { uses: string }) => s.uses)).toEqual([
      'core.fail',
      'core.fail',
      'core.fail',
      'core.fail',
    ]);
    // The only secret a template may read is none: braces from n8n text never became a template.
    expect(JSON.stringify(wf.steps.map((st: { with: unknown }) => st.with))).not.toContain('{{ secrets.');
    const route = parse(result.files.find((f) => f.name.startsWith('webhooks/'))!.text);
    expect(route.path).toBe('/v1/webhooks/n8n/etc-passwd');
  });

  it('reads a workflow list, and keeps going past an unreadable workflow in it', async () => {
    const good = JSON.parse(await fs.readFile(path.join(FIXTURES, 'stripe-to-telegram.json'), 'utf8'));
    const result = await importOne('list.json', { data: [good, { nodes: 'nope' }, good] });
    expect(result.report.workflows.map((w) => [w.status, w.id])).toEqual([
      ['converted', 'WF-500'],
      ['refused', undefined],
      ['converted', 'WF-502'],
    ]);
    await expectValid(result);
  });
});

describe('triggers', () => {
  it('maps an Error Trigger to a failure event of the workflow that names it', async () => {
    await fs.mkdir(path.join(tmp, 'errors'));
    const watched = {
      name: 'Watched',
      settings: { errorWorkflow: 'err1' },
      nodes: [node('Start', 'manualTrigger'), node('Fail', 'stopAndError', { errorMessage: 'no' })],
      connections: chain('Start', 'Fail'),
    };
    const handler = {
      id: 'err1',
      name: 'On error',
      nodes: [node('Error Trigger', 'errorTrigger'), node('Done', 'noOp')],
      connections: chain('Error Trigger', 'Done'),
    };
    await fs.writeFile(path.join(tmp, 'errors', 'a.json'), JSON.stringify(watched));
    await fs.writeFile(path.join(tmp, 'errors', 'b.json'), JSON.stringify(handler));
    const result = await importN8n({ paths: [path.join(tmp, 'errors')], idFrom: 300, catalogue: CATALOGUE });
    expect(result.report.totals.converted).toBe(2);
    const wf = parse(result.files.find((f) => f.name.startsWith('workflows/WF-301'))!.text);
    expect(wf.trigger).toEqual({ type: 'event', workflow: 'WF-300', status: ['failed'] });
    await expectValid(result);
    const alone = await importOne('alone.json', handler);
    expect(alone.report.workflows[0]!.reason).toContain('no imported workflow names as its error workflow');
  });

  it('drops a Manual Trigger beside another trigger, and refuses two real ones or a GET webhook', async () => {
    const both = await importOne('both.json', {
      name: 'Both',
      nodes: [
        node('Manual', 'manualTrigger'),
        node(
          'Every hour',
          'scheduleTrigger',
          { rule: { interval: [{ field: 'hours', triggerAtMinute: 5 }] } },
          1.2,
        ),
        node('Work', 'noOp'),
      ],
      connections: { ...chain('Manual', 'Work'), ...chain('Every hour', 'Work') },
    });
    const [w] = both.report.workflows;
    expect(w!.status).toBe('converted');
    expect(w!.notes).toContain('the Manual Trigger was dropped: every Atlas workflow can be started by hand');
    expect(parse(both.files[0]!.text).trigger).toEqual({ type: 'schedule', cron: '5 * * * *' });
    const two = await importOne('two.json', {
      nodes: [
        node('A', 'scheduleTrigger', {}, 1.2),
        node('B', 'webhook', { httpMethod: 'POST', path: 'x' }, 2),
      ],
      connections: {},
    });
    expect(two.report.workflows[0]!.reason).toBe(
      'it has 2 triggers ("A", "B"); an Atlas workflow has one: split it',
    );
    const get = await importOne('get.json', {
      nodes: [node('Hook', 'webhook', { path: 'x' }, 2)],
      connections: {},
    });
    expect(get.report.workflows[0]!.reason).toContain('a GET webhook');
  });

  it('leaves a Respond to Webhook computed from the run as an explicit failing step', async () => {
    const result = await importOne('respond.json', {
      name: 'Respond',
      nodes: [
        node('Hook', 'webhook', { httpMethod: 'POST', path: 'r', responseMode: 'responseNode' }, 2),
        node('Respond', 'respondToWebhook', { respondWith: 'json', responseBody: '={{ $json.body }}' }, 1.1),
      ],
      connections: chain('Hook', 'Respond'),
    });
    expect(result.report.workflows[0]!.untranslated).toEqual([
      expect.objectContaining({
        node: 'Respond',
        message: 'an answer computed from the run; Atlas answers webhooks before the run, with a fixed body',
      }),
    ]);
    await expectValid(result);
  });
});

describe('importing into the catalogue itself', () => {
  it('imports twice into a catalogue directory, the second time replacing its own files byte for byte', async () => {
    const catalogue = path.join(tmp, 'catalogue');
    const io: CliIO = {
      out: () => {},
      err: () => {},
      env: { ATLAS_MANIFESTS: `${path.join(ROOT, 'manifests')}:${catalogue}` },
      cwd: ROOT,
    };
    await fs.mkdir(catalogue);
    const args = ['import', 'n8n', 'test/fixtures/n8n/stripe-to-telegram.json', '--out', catalogue];
    expect(await main(args, io)).toBe(0);
    const file = path.join(catalogue, 'workflows/WF-100-stripe-payment-to-telegram.yaml');
    const first = await fs.readFile(file);
    expect(await main(args, io)).toBe(0);
    expect((await fs.readFile(file)).equals(first)).toBe(true);
  });
});
