import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinConnectors } from '../../connectors/index.ts';
import { generateTypes, TYPES_FILE } from '../../engine/manifest/gen-types.ts';
import {
  formatErrors,
  loadCatalogue,
  manifestDirs,
  manifestHash,
  parseDuration,
  validateSources,
} from '../../engine/manifest/index.ts';

const ROOT = join(import.meta.dirname, '../..');
const hello = {
  apiVersion: 'atlas/v1',
  kind: 'Workflow',
  id: 'WF-900',
  trigger: { type: 'manual' },
  steps: [{ id: 'a', uses: 'core.log', with: { message: 'hi' } }],
};

describe('the shipped catalogue', () => {
  it('loads, with every kind reachable by id and a content hash', async () => {
    const { catalogue, errors } = await loadCatalogue({
      dirs: [join(ROOT, 'manifests')],
      connectors: builtinConnectors,
    });
    expect(formatErrors(errors)).toBe('');
    expect(catalogue?.workflow('WF-010')?.manifest.trigger).toEqual(
      expect.objectContaining({ type: 'schedule', cron: '30 8 * * *' }),
    );
    expect(catalogue?.workflow('WF-031')?.manifest.trigger).toEqual(
      expect.objectContaining({ cron: '0 6 * * *' }),
    );
    expect(catalogue?.webhookRoute('stripe')?.manifest.path).toBe('/v1/webhooks/stripe');
    expect(catalogue?.webhookRoute('telegram')?.manifest.verify.method).toBe('telegram-secret-token');
    expect(catalogue?.webhookRoute('teams')?.manifest.verify.method).toBe('teams-hmac');
    expect(catalogue?.workflow('WF-010')?.hash).toMatch(/^[0-9a-f]{64}$/);
    // The architecture's schedules and the examples the README walks through are shipped.
    expect(catalogue?.workflows().map((e) => e.manifest.id)).toEqual(
      expect.arrayContaining(['WF-001', 'WF-010', 'WF-020', 'WF-031']),
    );
    expect(catalogue?.workflow('WF-404')).toBeUndefined();
  });

  it('is immutable', async () => {
    const { catalogue } = await loadCatalogue({
      dirs: [join(ROOT, 'manifests')],
      connectors: builtinConnectors,
    });
    const entry = catalogue!.workflow('WF-001')!;
    expect(() => {
      (entry.manifest as { id: string }).id = 'WF-002';
    }).toThrow(TypeError);
    expect(Object.isFrozen(entry.manifest.steps[0])).toBe(true);
  });
});

describe('validateSources', () => {
  it('accepts objects, JSON and multi-document YAML alike', () => {
    const yaml = `${JSON.stringify(hello)}\n---\nkind: Agent\napiVersion: atlas/v1\nid: helper\ninstructions: Help.\nmodel: { provider: openai, model: gpt-4o-mini }\ntools: [core.log]\n`;
    const result = validateSources(
      [{ manifest: { ...hello, id: 'WF-901' } }, { file: 'both.yaml', text: yaml }],
      {
        connectors: builtinConnectors,
      },
    );
    expect(result.errors).toEqual([]);
    expect(result.catalogue?.size).toBe(3);
    expect(result.catalogue?.agent('helper')?.file).toBe('both.yaml');
  });

  it('hashes content, not formatting or key order', () => {
    const reordered = {
      steps: hello.steps,
      trigger: hello.trigger,
      id: hello.id,
      kind: hello.kind,
      apiVersion: hello.apiVersion,
    };
    expect(manifestHash(reordered)).toBe(manifestHash(hello));
    expect(manifestHash({ ...hello, name: 'x' })).not.toBe(manifestHash(hello));
  });

  it('reports every error in one pass', () => {
    const bad = {
      ...hello,
      id: 'WF-9',
      steps: [
        { id: 'a', uses: 'core.lgo' },
        { id: 'b', uses: 'core.log', needs: ['c'], with: {} },
      ],
    };
    const { errors } = validateSources([{ file: 'bad.json', manifest: bad }], {
      connectors: builtinConnectors,
    });
    expect(errors.map((e) => e.keyword)).toEqual(['pattern']);
    const valid = { ...bad, id: 'WF-009' };
    const second = validateSources([{ file: 'bad.json', manifest: valid }], {
      connectors: builtinConnectors,
    });
    expect(second.errors.map((e) => e.keyword)).toEqual(['unknown-action', 'needs', 'input']);
    expect(formatErrors(second.errors).split('\n')[0]).toMatch(
      /^bad\.json:\d+:\d+ {2}Workflow WF-009: connector "core" has no action "lgo"/,
    );
  });
});

describe('helpers', () => {
  it('parses durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('3d')).toBe(259_200_000);
    expect(() => parseDuration('30 seconds')).toThrow(RangeError);
  });

  it('reads ATLAS_MANIFESTS as a :-separated list', () => {
    expect(manifestDirs({})).toEqual(['manifests']);
    expect(manifestDirs({ ATLAS_MANIFESTS: 'a:/b/c:' })).toEqual(['a', '/b/c']);
  });

  it('types.gen.ts is up to date with schemas/ (run `npm run gen:types`)', () => {
    expect(readFileSync(TYPES_FILE, 'utf8')).toBe(generateTypes());
  });
});
