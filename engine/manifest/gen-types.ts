// Derives TypeScript types from `schemas/` so manifest shapes are written once, as JSON
// Schema. `npm run gen:types` rewrites engine/connector-sdk/manifest.gen.ts; a test fails when the
// file is stale. Only the subset of JSON Schema the manifest schemas use is supported, and
// anything else is a hard error so the generator never silently emits a wrong type.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { JsonSchema } from '../connector-sdk/index.ts';
import { readSchema, SCHEMA_FILES } from './schemas.ts';

export const TYPES_FILE = fileURLToPath(new URL('../connector-sdk/manifest.gen.ts', import.meta.url));

type Named = { name: string; schema: JsonSchema; file: string };

/** Every titled schema (file roots and `$defs`), keyed by `file#pointer`. */
function collectNamed(): Map<string, Named> {
  const named = new Map<string, Named>();
  for (const [key, file] of Object.entries(SCHEMA_FILES)) {
    if (key === 'manifest') continue;
    const root = readSchema(file);
    if (key !== 'defs') named.set(`${file}#`, { name: String(root.title), schema: root, file });
    const defs = (root.$defs ?? {}) as Record<string, JsonSchema>;
    for (const [def, schema] of Object.entries(defs)) {
      if (typeof schema.title !== 'string') throw new Error(`${file}#/$defs/${def} needs a title`);
      named.set(`${file}#/$defs/${def}`, { name: schema.title, schema, file });
    }
  }
  return named;
}

class Generator {
  constructor(private readonly named: Map<string, Named>) {}

  resolve(ref: string, file: string): Named {
    const key = ref.startsWith('#') ? file + ref : ref;
    const target = this.named.get(key);
    if (!target) throw new Error(`unresolvable $ref ${ref} in ${file}`);
    return target;
  }

  type(schema: JsonSchema, file: string, indent: string): string {
    if (typeof schema.$ref === 'string') return this.resolve(schema.$ref, file).name;
    if ('const' in schema) return literal(schema.const);
    if (Array.isArray(schema.enum)) return schema.enum.map(literal).join(' | ');
    if (Array.isArray(schema.oneOf)) {
      return (schema.oneOf as JsonSchema[]).map((s) => this.type(s, file, indent)).join(' | ');
    }
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type];
    return types.map((t) => this.simple(t, schema, file, indent)).join(' | ');
  }

  simple(type: unknown, schema: JsonSchema, file: string, indent: string): string {
    switch (type) {
      case undefined:
        return 'unknown';
      case 'string':
        return 'string';
      case 'number':
      case 'integer':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'array': {
        const items = this.type((schema.items ?? {}) as JsonSchema, file, indent);
        return items.includes(' ') ? `Array<${items}>` : `${items}[]`;
      }
      case 'object':
        return this.object(schema, file, indent);
      default:
        throw new Error(`unsupported type ${String(type)} in ${file}`);
    }
  }

  object(schema: JsonSchema, file: string, indent: string): string {
    const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((schema.required ?? []) as string[]);
    const extra = schema.additionalProperties;
    if (Object.keys(props).length === 0) {
      const value =
        typeof extra === 'object' && extra !== null
          ? this.type(extra as JsonSchema, file, indent)
          : 'unknown';
      return `Record<string, ${value}>`;
    }
    const lines: string[] = [];
    for (const [key, prop] of Object.entries(props)) {
      const doc = this.doc(prop, file);
      if (doc) lines.push(`${indent}  /** ${doc} */`);
      lines.push(
        `${indent}  ${key}${required.has(key) ? '' : '?'}: ${this.type(prop, file, indent + '  ')};`,
      );
    }
    // An open object keeps its declared fields and accepts any other.
    if (extra !== false) lines.push(`${indent}  [key: string]: unknown;`);
    return `{\n${lines.join('\n')}\n${indent}}`;
  }

  /** The description shown in editors: the property's own, else its referenced type's. */
  doc(schema: JsonSchema, file: string): string | undefined {
    let text = schema.description;
    if (text === undefined && typeof schema.$ref === 'string')
      text = this.resolve(schema.$ref, file).schema.description;
    if (typeof text !== 'string') return undefined;
    const fallback = schema.default === undefined ? '' : ` Default: \`${JSON.stringify(schema.default)}\`.`;
    return (text + fallback).replaceAll('*/', '*\\/');
  }
}

/** A TypeScript literal in the project's style (single-quoted strings). */
function literal(value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value);
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** The full text of manifest.gen.ts. */
export function generateTypes(): string {
  const named = collectNamed();
  const gen = new Generator(named);
  const out = [
    '// Generated from schemas/*.schema.json by `npm run gen:types`. Do not edit by hand.',
    '/* biome-ignore-all lint: generated file */',
    '',
  ];
  const seen = new Set<string>();
  for (const { name, schema, file } of named.values()) {
    if (seen.has(name)) throw new Error(`two schemas are titled ${name}`);
    seen.add(name);
    if (typeof schema.description === 'string')
      out.push(`/** ${schema.description.replaceAll('*/', '*\\/')} */`);
    const body = gen.type({ ...schema, $ref: undefined }, file, '');
    const isObject = body.startsWith('{') && body.endsWith('}');
    out.push(isObject ? `export interface ${name} ${body}` : `export type ${name} = ${body};`, '');
  }
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(TYPES_FILE, generateTypes());
  process.stdout.write(`wrote ${TYPES_FILE}\n`);
}
