// The precompiled validators (engine/manifest/*.gen.js) must be current and must judge and
// word everything exactly as Ajv compiling the same schemas would.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { builtinConnectors } from '../../connectors/index.ts';
import { defineAction, defineConnector, makeConnectorRegistry } from '../../engine/connector-sdk/index.ts';
import { makeAjv } from '../../engine/json/ajv.ts';
import {
  ACTIONS_FILE,
  ACTIONS_TYPES,
  ACTIONS_TYPES_FILE,
  generateActionValidators,
  generateKindValidators,
  KINDS_FILE,
  KINDS_TYPES,
  KINDS_TYPES_FILE,
} from '../../engine/manifest/gen-validators.ts';
import {
  isManifestKind,
  MANIFEST_AJV_OPTIONS,
  readSchema,
  SCHEMA_BASE,
  SCHEMA_FILES,
  schemasHash,
} from '../../engine/manifest/schemas.ts';
import * as precompiled from '../../engine/manifest/validators.gen.js';
import { actionInputValidator, kindValidator, makeSchemaAjv } from '../../engine/manifest/validators.ts';

const ROOT = join(import.meta.dirname, '../..');
const registry = makeConnectorRegistry(builtinConnectors);

describe('precompiled validators', () => {
  it('are up to date with schemas/ and the built-in connectors (run `npm run gen:validators`)', () => {
    expect(readFileSync(KINDS_FILE, 'utf8')).toBe(generateKindValidators());
    expect(readFileSync(KINDS_TYPES_FILE, 'utf8')).toBe(KINDS_TYPES);
    expect(readFileSync(ACTIONS_FILE, 'utf8')).toBe(generateActionValidators());
    expect(readFileSync(ACTIONS_TYPES_FILE, 'utf8')).toBe(ACTIONS_TYPES);
  });

  it('are the ones the loader uses while schemas/ is unchanged', () => {
    expect(precompiled.SCHEMAS_HASH).toBe(schemasHash());
    expect(kindValidator('Workflow')).toBe(precompiled.Workflow);
    expect(actionInputValidator(registry, 'http.request')).not.toBe(registry.inputValidator('http.request'));
  });

  it('give the errors Ajv gives for every manifest of the invalid corpus and the catalogue', () => {
    const ajv = makeAjv(MANIFEST_AJV_OPTIONS);
    for (const file of Object.values(SCHEMA_FILES)) ajv.addSchema(readSchema(file), SCHEMA_BASE + file);
    const dirs = [
      'test/fixtures/manifests/invalid',
      'manifests/workflows',
      'manifests/webhooks',
      'manifests/oauth',
    ];
    let checked = 0;
    for (const dir of dirs) {
      for (const name of readdirSync(join(ROOT, dir))) {
        for (const doc of parseAllDocuments(readFileSync(join(ROOT, dir, name), 'utf8'))) {
          if (!('toJS' in doc) || doc.errors.length > 0) continue;
          const value = doc.toJS() as { kind?: unknown } | null;
          if (!isManifestKind(value?.kind)) continue;
          const compiled = ajv.getSchema(SCHEMA_BASE + SCHEMA_FILES[value.kind])!;
          const fast = kindValidator(value.kind);
          expect(fast(value)).toBe(compiled(value));
          expect(fast.errors ?? null).toEqual(compiled.errors ?? null);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(80);
  });

  it('check input schemas against the meta-schema with Ajv’s own messages', () => {
    const schemas: unknown[] = [
      { type: 'object', required: ['url'], properties: { url: { type: 'string', format: 'uri' } } },
      { type: 'strng' },
      { type: 'object', properties: { a: { type: 1 } }, required: 'a' },
      { minLength: -1, items: [{ type: 'string' }] },
      { $defs: { a: { $dynamicRef: '#meta', enum: 'x' } } },
      { type: 'object', requried: ['x'] },
      { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' },
      true,
    ];
    const outcome = (ajv: ReturnType<typeof makeAjv>, schema: unknown) => {
      try {
        ajv.compile(schema as object);
        return 'ok';
      } catch (err) {
        return (err as Error).message;
      } finally {
        ajv.removeSchema();
      }
    };
    const plain = makeAjv(MANIFEST_AJV_OPTIONS);
    const fast = makeSchemaAjv();
    const outcomes = schemas.map((schema) => outcome(fast, schema));
    expect(outcomes).toEqual(schemas.map((schema) => outcome(plain, schema)));
    expect(outcomes.filter((o) => o.startsWith('schema is invalid:')).length).toBe(4);
  });

  it('give the errors the registry gives for every built-in action input', () => {
    for (const { uses, action } of registry.actions()) {
      const fields = Object.keys((action.input.properties ?? {}) as object);
      const values: unknown[] = [
        null,
        {},
        { unknownField: 1 },
        Object.fromEntries(fields.map((f) => [f, []])),
        Object.fromEntries(fields.map((f) => [f, 'x'])),
        Object.fromEntries(fields.map((f) => [f, -1])),
      ];
      const fast = actionInputValidator(registry, uses);
      const compiled = registry.inputValidator(uses);
      for (const value of values) {
        expect(fast(value), `${uses} ${JSON.stringify(value)}`).toBe(compiled(value));
        expect(fast.errors ?? null).toEqual(compiled.errors ?? null);
      }
    }
  });

  it('fall back to the registry for an action whose schema differs from the built-in one', () => {
    const custom = defineConnector({
      id: 'core',
      description: 'A core connector of a test.',
      auth: { type: 'none' },
      actions: [
        defineAction({
          id: 'set',
          description: 'A different core.set.',
          input: { type: 'object', required: ['other'], properties: { other: { type: 'string' } } },
          output: { type: 'object' },
          run: async () => ({}),
        }),
      ],
    });
    const own = makeConnectorRegistry([custom]);
    expect(actionInputValidator(own, 'core.set')).toBe(own.inputValidator('core.set'));
  });
});
