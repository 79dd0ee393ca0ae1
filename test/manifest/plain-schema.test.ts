// The shortcut `atlas validate` takes for a workflow's `input` and `config` schemas: a schema
// it calls plain must compile in strict mode, and anything a compile could refuse is not plain.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { plainValidSchema } from '../../engine/manifest/plain-schema.ts';
import { makeSchemaAjv } from '../../engine/manifest/validators.ts';

const ajv = makeSchemaAjv();
const formats = new Set(Object.keys(ajv.formats));
const compiles = (schema: unknown) => {
  try {
    ajv.compile(schema as object);
    return true;
  } catch {
    return false;
  } finally {
    ajv.removeSchema();
  }
};

describe('plain input schemas', () => {
  it('agrees with a strict compile on every input and config schema of the catalogue', () => {
    const dir = path.resolve(import.meta.dirname, '../../manifests/workflows');
    let plainOnes = 0;
    for (const file of readdirSync(dir)) {
      const wf = parse(readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown>;
      for (const field of ['input', 'config']) {
        if (wf[field] === undefined) continue;
        const plainOne = plainValidSchema(wf[field], formats);
        if (plainOne) {
          plainOnes++;
          expect(compiles(wf[field]), `${file} ${field}`).toBe(true);
        }
      }
    }
    expect(plainOnes).toBeGreaterThan(30);
  });

  it('leaves to the compile whatever it could refuse', () => {
    const cases: unknown[] = [
      { type: 'object', requried: ['a'] },
      { type: 'string', pattern: '([a-z' },
      { type: 'object', patternProperties: { '([': { type: 'string' } } },
      { type: 'string', format: 'colour' },
      { $ref: '#/$defs/missing' },
      { type: 'object', properties: { a: { type: 'strin' } } },
      { type: 'object', properties: { a: { minimum: 'ten' } } },
      { oneOf: [{ type: 'string' }, { tpye: 'number' }] },
      { type: 'object', discriminator: { propertyName: 'kind' }, oneOf: [] },
      { $schema: 'http://json-schema.org/draft-07/schema#', type: 'string' },
    ];
    for (const schema of cases) expect(plainValidSchema(schema, formats), JSON.stringify(schema)).toBe(false);
    expect(
      plainValidSchema(
        {
          type: 'object',
          required: ['email'],
          properties: {
            email: { type: 'string', format: 'email' },
            tags: { type: 'array', items: { type: 'string', pattern: '^[a-z]+$' }, maxItems: 5 },
            when: { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] },
          },
          additionalProperties: false,
        },
        formats,
      ),
    ).toBe(true);
  });
});
