// Does a path exist in the values a JSON Schema describes? Used to check that templates
// read fields an action's output (or the workflow input) declares. A schema that does not
// say (no `properties`, a `$ref`, a union) is open: anything may be read from it.
import type { JsonSchema } from '../../connector-sdk/index.ts';
import type { Path } from '../source.ts';

export interface MissingField {
  /** Index in the path of the first segment that does not exist. */
  at: number;
  /** Fields the schema declares at that place, for "did you mean". */
  known: string[];
  /** Set when the path goes inside a value that is not an object (`a string`). */
  scalar?: string;
}

const SCALARS = new Set(['string', 'number', 'integer', 'boolean', 'null']);

function isSchema(value: unknown): value is JsonSchema {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The first segment of `path` the schema does not allow, or undefined when it may exist. */
export function missingField(schema: unknown, path: Path): MissingField | undefined {
  let current: unknown = schema;
  for (let i = 0; i < path.length; i++) {
    if (
      !isSchema(current) ||
      '$ref' in current ||
      'oneOf' in current ||
      'anyOf' in current ||
      'allOf' in current
    ) {
      return undefined;
    }
    const segment = path[i]!;
    const type = current.type;
    if (typeof type === 'string' && SCALARS.has(type)) return { at: i, known: [], scalar: type };
    if (type === 'array' || (typeof segment === 'number' && isSchema(current.items))) {
      if (typeof segment !== 'number') return { at: i, known: [], scalar: 'array' };
      current = current.items;
      continue;
    }
    const next = step(current, String(segment));
    if (next === 'missing') return { at: i, known: Object.keys(current.properties as object) };
    current = next;
  }
  return undefined;
}

function step(schema: JsonSchema, key: string): unknown | 'missing' {
  const properties = isSchema(schema.properties) ? schema.properties : undefined;
  if (properties && Object.hasOwn(properties, key)) return properties[key];
  if (isSchema(schema.additionalProperties)) return schema.additionalProperties;
  if (schema.additionalProperties === true || schema.patternProperties !== undefined) return true;
  // Declared fields and nothing said about others: reading another field is a mistake.
  return properties && Object.keys(properties).length > 0 ? 'missing' : true;
}

/** The schema of the value at `path`, or `{}` (anything) where the schema does not say. */
export function schemaAt(schema: unknown, path: Path): Record<string, unknown> {
  let current: unknown = schema;
  for (const segment of path) {
    if (!isSchema(current)) return {};
    if (current.type === 'array' || (typeof segment === 'number' && isSchema(current.items))) {
      current = typeof segment === 'number' ? current.items : undefined;
      continue;
    }
    const next = step(current, String(segment));
    current = next === 'missing' ? undefined : next;
  }
  return isSchema(current) ? (current as Record<string, unknown>) : {};
}
