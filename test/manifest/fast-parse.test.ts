/**
 * The fast path reads manifests exactly as the full parser does, or declines: for every
 * shipped manifest, for every way a plain scalar can resolve, and for generated documents;
 * and a file it declines still gets its positioned error.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { dump } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { builtinConnectors } from '../../connectors/index.ts';
import { fastParse } from '../../engine/manifest/fast-parse.ts';
import { validateSources } from '../../engine/manifest/index.ts';
import { ROOT } from '../helpers/cli.ts';

/** The full parser's values, or undefined when it reports an error. */
function fullParse(text: string): unknown[] | undefined {
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  if (list.some((d) => d.errors.length > 0)) return undefined;
  return list.filter((d) => d.contents !== null).map((d) => d.toJS({ maxAliasCount: 100 }) as unknown);
}

/** Fast and full agree, or fast declines. */
function agrees(text: string): void {
  const fast = fastParse(text);
  if (fast !== undefined) expect(fast, text).toEqual(fullParse(text));
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : /\.(ya?ml|json)$/.test(name) ? [path] : [];
  });
}

const SCALARS = [
  ...['1_000', '0o17', '0O17', '0x1F', '0X1F', '0b101', '+12', '-0', '012', '00', '+0', '9007199254740993'],
  ...['1e3', '1E+3', '.5', '-.5', '+.5', '5.', '1.', '0.', '1.5e-3', '.e3', '1e', 'e3', '1e400', '-1e400'],
  ...['.inf', '-.inf', '+.INF', '-.Inf', '.NaN', '.nan', '.Nan', '0x', '0o', '0xG', '-0x1F', '+0o7'],
  ...['~', 'null', 'Null', 'NULL', 'nUll', 'true', 'True', 'TRUE', 'tRue', 'false', 'yes', 'no', 'on', 'off'],
  ...['y', 'n', '2026-01-01', '2026-01-01T10:00:00Z', '12:30', '1:20:30', '0.1.2', '1__0', '.', '...x'],
  ...['<<', '=', '"quoted"', "'single'", '"\\u00e9\\t"', '{{ input.name }}', '"{{ a }}"', 'a #b', 'a#b'],
];

describe('the fast path of reading manifests', () => {
  it('reads every shipped manifest and fixture as the full parser does', () => {
    const all = [...files(join(ROOT, 'manifests')), ...files(join(ROOT, 'test/fixtures'))];
    let fast = 0;
    for (const file of all) {
      const text = readFileSync(file, 'utf8');
      if (fastParse(text) !== undefined) fast++;
      agrees(text);
    }
    // The shipped catalogue is all on the fast path.
    for (const file of files(join(ROOT, 'manifests')))
      expect(fastParse(readFileSync(file, 'utf8')), file).toBeDefined();
    expect(fast).toBeGreaterThan(100);
  });

  it('resolves every plain scalar as the YAML 1.2 core schema does', () => {
    for (const scalar of SCALARS) {
      agrees(`k: ${scalar}\n`);
      agrees(`- ${scalar}\n`);
      agrees(`{ k: [${scalar}] }\n`);
      agrees(`${scalar}: v\n`);
    }
  });

  it('reads generated documents as the full parser does', () => {
    const value = fc.dictionary(
      fc.string(),
      fc.jsonValue({ maxDepth: 4 }).filter((v) => v !== null),
      { minKeys: 1 },
    );
    fc.assert(
      fc.property(value, fc.boolean(), (doc, flow) => {
        agrees(stringify(doc, flow ? { collectionStyle: 'flow' } : {}));
        agrees(dump(doc));
        agrees(JSON.stringify(doc));
      }),
      { numRuns: 300 },
    );
  });

  it('declines what only the full parser reads exactly, and it still reports the place', () => {
    const declined = {
      alias: 'a: &x [1]\nb: *x\n',
      tag: 'a: !!str 12\n',
      custom: 'a: !secret x\n',
      duplicate: 'a: 1\na: 2\n',
      syntax: 'a: [1\n',
      empty: '',
      nullDoc: 'null\n',
      emptySecond: 'a: 1\n---\n---\nb: 2\n',
      deep: `${'['.repeat(80)}${']'.repeat(80)}\n`,
    };
    for (const [name, text] of Object.entries(declined)) expect(fastParse(text), name).toBeUndefined();
    const { errors } = validateSources(
      [{ file: 'dup.yaml', text: 'apiVersion: atlas/v1\nkind: Workflow\nkind: Workflow\n' }],
      { connectors: builtinConnectors },
    );
    expect(errors[0]).toMatchObject({ file: 'dup.yaml', line: 3, column: 1 });
  });

  it('places an error of a later document on its line, from the document built on demand', () => {
    const text = [
      'apiVersion: atlas/v1',
      'kind: Workflow',
      'id: WF-100',
      'trigger: { type: manual }',
      'steps: [{ id: a, uses: core.log, with: { message: hi } }]',
      '---',
      'apiVersion: atlas/v1',
      'kind: Workflow',
      'id: WF-101',
      'trigger: { type: manual }',
      'steps:',
      '  - id: a',
      '    uses: core.lgo',
      '',
    ].join('\n');
    expect(fastParse(text)).toHaveLength(2);
    const { errors } = validateSources([{ file: 'two.yaml', text }], { connectors: builtinConnectors });
    expect(errors).toEqual([
      expect.objectContaining({ file: 'two.yaml', line: 13, column: 11, id: 'WF-101' }),
    ]);
  });
});
