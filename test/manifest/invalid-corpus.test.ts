import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinConnectors } from '../../connectors/index.ts';
import { type ManifestSource, validateSources } from '../../engine/manifest/index.ts';
import { EXPECTED } from './invalid-corpus.expected.ts';

const DIR = join(import.meta.dirname, '../fixtures/manifests/invalid');
const ROUTES = join(import.meta.dirname, '../../manifests/webhooks');

// Fixtures are validated beside the shipped webhook routes, so a webhook trigger can name one.
const routes: ManifestSource[] = readdirSync(ROUTES).map((name) => ({
  file: `manifests/webhooks/${name}`,
  text: readFileSync(join(ROUTES, name), 'utf8'),
}));

const fixtures = readdirSync(DIR)
  .filter((name) => /\.(ya?ml|json)$/.test(name))
  .sort();

describe('invalid manifest corpus', () => {
  it('has at least 60 fixtures, each with expectations', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(60);
    expect(Object.keys(EXPECTED).sort()).toEqual(fixtures);
  });

  it.each(fixtures)('%s', (name) => {
    const text = readFileSync(join(DIR, name), 'utf8');
    const { catalogue, errors } = validateSources([{ file: name, text }, ...routes], {
      connectors: builtinConnectors,
    });
    expect(catalogue).toBeUndefined();
    const actual = errors.map((e) => [e.line, e.column, e.keyword, e.message]);
    expect(errors.every((e) => e.file === name)).toBe(true);
    expect(actual).toEqual(EXPECTED[name]);
  });
});
