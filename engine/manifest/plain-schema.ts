// Whether compiling a manifest's JSON Schema (a workflow's `input` or `config`) could report
// anything the precompiled meta-schema does not. `atlas validate` compiles such schemas in
// strict mode only to catch misspelled keywords (`requried`), unknown formats, bad regular
// expressions and references; for a schema with none of those risks, the meta-schema's
// verdict is the compile's, at a fraction of its cost (about 80 ms of a 0.4 s catalogue).
import * as precompiled from './validators.gen.js';

const KEYWORDS = new Set([
  '$id',
  '$anchor',
  '$comment',
  '$defs',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'if',
  'then',
  'else',
  'dependentSchemas',
  'prefixItems',
  'items',
  'contains',
  'properties',
  'patternProperties',
  'additionalProperties',
  'propertyNames',
  'unevaluatedItems',
  'unevaluatedProperties',
  'type',
  'enum',
  'const',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'maxContains',
  'minContains',
  'maxProperties',
  'minProperties',
  'required',
  'dependentRequired',
  'title',
  'description',
  'default',
  'deprecated',
  'readOnly',
  'writeOnly',
  'examples',
  'format',
  'contentEncoding',
  'contentMediaType',
]);
/** Keywords whose value is a map of subschemas, one subschema, or a list of them. */
const SCHEMA_MAPS = new Set(['$defs', 'dependentSchemas', 'properties', 'patternProperties']);
const SCHEMA_ONE = new Set([
  'not',
  'if',
  'then',
  'else',
  'contains',
  'additionalProperties',
  'propertyNames',
  'unevaluatedItems',
  'unevaluatedProperties',
  'items',
]);
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);

const regexOk = (source: unknown): boolean => {
  if (typeof source !== 'string') return false;
  try {
    new RegExp(source, 'u');
    return true;
  } catch {
    return false;
  }
};

function plain(schema: unknown, formats: ReadonlySet<string>, depth: number): boolean {
  if (typeof schema === 'boolean') return true;
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema) || depth > 64) return false;
  for (const [key, value] of Object.entries(schema)) {
    if (!KEYWORDS.has(key)) return false;
    if (key === 'pattern' && !regexOk(value)) return false;
    if (key === 'format' && !(typeof value === 'string' && formats.has(value))) return false;
    if (SCHEMA_MAPS.has(key)) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
      for (const [name, sub] of Object.entries(value)) {
        if (key === 'patternProperties' && !regexOk(name)) return false;
        if (!plain(sub, formats, depth + 1)) return false;
      }
    } else if (SCHEMA_ONE.has(key)) {
      if (!plain(value, formats, depth + 1)) return false;
    } else if (SCHEMA_LISTS.has(key)) {
      if (!Array.isArray(value) || !value.every((sub) => plain(sub, formats, depth + 1))) return false;
    }
  }
  return true;
}

/**
 * True when the schema is valid against the meta-schema and uses only standard keywords,
 * known formats and valid regular expressions, without references: then a strict compile
 * has nothing to add. False means "compile it to know" (and to get Ajv's own message).
 */
export function plainValidSchema(schema: unknown, formats: ReadonlySet<string>): boolean {
  return plain(schema, formats, 0) && precompiled.META_SCHEMA(schema) === true;
}
