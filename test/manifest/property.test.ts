// Random mutations of the shipped manifests. Two properties:
// 1. whatever the mutation, the validator returns errors (it never throws);
// 2. a mutation that makes the manifest invalid by construction is always reported.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { builtinConnectors } from '../../connectors/index.ts';
import { makeConnectorRegistry } from '../../engine/connector-sdk/index.ts';
import { type ManifestSource, validateSources, type Workflow } from '../../engine/manifest/index.ts';

const ROOT = join(import.meta.dirname, '../..');
const WORKFLOWS = ['WF-001-hello', 'WF-010-daily-digest', 'WF-020-invoice-paid', 'WF-031-exchange-rates'];
const texts = WORKFLOWS.map((name) => readFileSync(join(ROOT, `manifests/workflows/${name}.yaml`), 'utf8'));
const routes: ManifestSource[] = ['stripe', 'telegram', 'teams'].map((name) => ({
  file: `${name}.yaml`,
  text: readFileSync(join(ROOT, `manifests/webhooks/${name}.yaml`), 'utf8'),
}));
const registry = makeConnectorRegistry(builtinConnectors);

function check(manifest: unknown) {
  return validateSources([{ file: 'mutated.json', manifest }, ...routes], { connectors: registry });
}

const workflow = fc.nat(WORKFLOWS.length - 1).map((i) => parse(texts[i]!) as Workflow);
const junk = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string()),
  fc.object(),
);

/** Strict objects of a workflow (no free-form fields): an unknown key there is always an error. */
function strictObjects(wf: Workflow): Record<string, unknown>[] {
  const list: Record<string, unknown>[] = [
    wf as unknown as Record<string, unknown>,
    wf.trigger as unknown as Record<string, unknown>,
  ];
  for (const step of wf.steps) list.push(step as unknown as Record<string, unknown>);
  if (wf.defaults) list.push(wf.defaults as unknown as Record<string, unknown>);
  return list;
}

describe('validator properties', () => {
  it('shipped workflows are valid (the base of every mutation)', () => {
    for (const text of texts) expect(check(parse(text)).errors).toEqual([]);
  });

  it('never throws on arbitrary replacements anywhere in a manifest', () => {
    fc.assert(
      fc.property(workflow, fc.array(fc.nat(), { maxLength: 6 }), junk, (wf, trail, value) => {
        let node: unknown = wf;
        let parent: Record<string, unknown> | unknown[] | undefined;
        let key: string | number | undefined;
        for (const n of trail) {
          if (node === null || typeof node !== 'object') break;
          const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
          if (keys.length === 0) break;
          parent = node as Record<string, unknown>;
          key = keys[n % keys.length]!;
          node = (node as Record<string | number, unknown>)[key];
        }
        if (parent !== undefined && key !== undefined)
          (parent as Record<string | number, unknown>)[key] = value;
        const result = check(wf);
        expect(Array.isArray(result.errors)).toBe(true);
        for (const e of result.errors) expect(e.line).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on random edits of the YAML text', () => {
    fc.assert(
      fc.property(
        fc.nat(WORKFLOWS.length - 1),
        fc.nat(),
        fc.nat(40),
        fc.string({ maxLength: 8 }),
        (i, at, cut, insert) => {
          const text = texts[i]!;
          const pos = at % text.length;
          const mutated = text.slice(0, pos) + insert + text.slice(pos + cut);
          const result = validateSources([{ file: 'm.yaml', text: mutated }, ...routes], {
            connectors: registry,
          });
          for (const e of result.errors) expect(e.line).toBeGreaterThanOrEqual(1);
        },
      ),
      { numRuns: 300 },
    );
  });

  const invalidMutations: [string, fc.Arbitrary<(wf: Workflow) => void>][] = [
    [
      'removing a required field',
      fc.constantFrom('apiVersion', 'kind', 'id', 'trigger', 'steps').map((field) => (wf: Workflow) => {
        delete (wf as unknown as Record<string, unknown>)[field];
      }),
    ],
    [
      'adding an unknown field to a strict object',
      fc.tuple(fc.nat(), fc.stringMatching(/^[a-z]{1,8}$/)).map(([n, name]) => (wf: Workflow) => {
        const objects = strictObjects(wf);
        objects[n % objects.length]![`x_${name}`] = 1;
      }),
    ],
    [
      'naming an unregistered action',
      fc.tuple(fc.nat(), fc.stringMatching(/^[a-z]{1,6}\.[a-z]{1,6}$/)).map(([n, uses]) => (wf: Workflow) => {
        const step = wf.steps[n % wf.steps.length]!;
        step.uses = registry.action(uses) ? 'nosuch.action' : uses;
      }),
    ],
    [
      'needing a step that does not exist',
      fc.tuple(fc.nat(), fc.stringMatching(/^[a-z]{1,8}$/)).map(([n, id]) => (wf: Workflow) => {
        wf.steps[n % wf.steps.length]!.needs = [`missing_${id}`];
      }),
    ],
    [
      'reading the output of a step that does not exist',
      fc.tuple(fc.nat(), fc.stringMatching(/^[a-z]{1,8}$/)).map(([n, id]) => (wf: Workflow) => {
        const step = wf.steps[n % wf.steps.length]!;
        step.uses = 'core.log';
        step.with = { message: `{{ steps.missing_${id}.output }}` };
      }),
    ],
    [
      'repeating a step id',
      fc.nat().map((n) => (wf: Workflow) => {
        const step = wf.steps[n % wf.steps.length]!;
        wf.steps.push({ ...step, needs: undefined });
        if (wf.steps.at(-1)!.needs === undefined) delete wf.steps.at(-1)!.needs;
      }),
    ],
    [
      'pasting a credential into a string',
      fc
        .constantFrom('sk_live_0123456789abcdef', 'xoxb-0123456789-abcdef', '-----BEGIN PRIVATE KEY-----')
        .map((secret) => (wf: Workflow) => {
          wf.name = `name ${secret}`;
        }),
    ],
    [
      'a malformed duration',
      fc.stringMatching(/^[0-9]{1,3} ?(sec|min|hours|)$/).map((timeout) => (wf: Workflow) => {
        wf.steps[0]!.timeout = timeout;
      }),
    ],
  ];

  it.each(invalidMutations)('reports %s', (_name, mutation) => {
    fc.assert(
      fc.property(workflow, mutation, (wf, mutate) => {
        mutate(wf);
        const result = check(wf);
        expect(result.catalogue).toBeUndefined();
        expect(result.errors.length).toBeGreaterThan(0);
      }),
      { numRuns: 150 },
    );
  });
});
