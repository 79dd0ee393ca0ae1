// The manifest schemas, read from `schemas/` (the single source of truth) and compiled once
// per process. Files carry no `$id`, so editors resolve their relative `$ref`s by file
// location; here each file is registered under a base URI so Ajv resolves them the same way.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { JsonSchema } from '../connector-sdk/index.ts';

export const SCHEMA_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));
export const SCHEMA_BASE = 'https://atlas.dev/schemas/v1/';

/** Schema files, by the manifest kind they describe (`defs` is shared, `manifest` is any kind). */
export const SCHEMA_FILES = {
  defs: 'defs.schema.json',
  Workflow: 'workflow.schema.json',
  WebhookRoute: 'webhook-route.schema.json',
  OAuthProvider: 'oauth-provider.schema.json',
  Agent: 'agent.schema.json',
  manifest: 'manifest.schema.json',
} as const;

export const MANIFEST_KINDS = ['Workflow', 'WebhookRoute', 'OAuthProvider', 'Agent'] as const;
export type ManifestKind = (typeof MANIFEST_KINDS)[number];

export function isManifestKind(value: unknown): value is ManifestKind {
  return typeof value === 'string' && (MANIFEST_KINDS as readonly string[]).includes(value);
}

/** Reads one schema file as plain data. */
export function readSchema(file: string): JsonSchema {
  return JSON.parse(readFileSync(SCHEMA_DIR + file, 'utf8')) as JsonSchema;
}

// ajv-formats is CommonJS; its default export arrives wrapped under some loaders.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => Ajv2020;

/** A strict Ajv for draft 2020-12 with formats; `verbose` keeps the schema for messages. */
export function makeAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
    verbose: true,
    discriminator: true,
  });
  addFormats(ajv);
  return ajv;
}

let compiled: { ajv: Ajv2020; validators: Map<ManifestKind, ValidateFunction> } | undefined;

/** The compiled validator of a kind (compiled on first use, then cached). */
export function kindValidator(kind: ManifestKind): ValidateFunction {
  if (!compiled) {
    const ajv = makeAjv();
    for (const file of Object.values(SCHEMA_FILES)) ajv.addSchema(readSchema(file), SCHEMA_BASE + file);
    compiled = { ajv, validators: new Map() };
  }
  let validate = compiled.validators.get(kind);
  if (!validate) {
    validate = compiled.ajv.getSchema(SCHEMA_BASE + SCHEMA_FILES[kind]);
    if (!validate) throw new Error(`schema for ${kind} is missing`);
    compiled.validators.set(kind, validate);
  }
  return validate;
}
