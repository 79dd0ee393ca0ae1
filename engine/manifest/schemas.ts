// The manifest schemas, read from `schemas/` (the single source of truth). Files carry no
// `$id`, so editors resolve their relative `$ref`s by file location; here each file is
// registered under a base URI so Ajv resolves them the same way. The validators the loader
// runs are precompiled from them (validators.ts, validators.gen.js); this module is what the
// generator itself uses, so it must never import the generated code.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Options } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
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

/**
 * sha256 over the bytes of every schema file. The generated validators record the value they
 * were compiled from, so an edited schema is never checked by a stale validator.
 */
export function schemasHash(): string {
  const hash = createHash('sha256');
  for (const file of Object.values(SCHEMA_FILES))
    hash.update(`${file}\0`).update(readFileSync(SCHEMA_DIR + file));
  return hash.digest('hex');
}

// ajv-formats is CommonJS; its default export arrives wrapped under some loaders.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => Ajv2020;

/** Adds the formats (`uri`, `email`, `date-time`, ...) every manifest Ajv knows. */
export function withFormats<T extends Ajv2020>(ajv: T): T {
  addFormats(ajv);
  return ajv;
}

/** Strict draft 2020-12; `verbose` keeps the schema and data in errors for messages. */
export const AJV_OPTIONS = {
  allErrors: true,
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
  verbose: true,
  discriminator: true,
} as const satisfies Options;

/** A strict Ajv for draft 2020-12 with formats; `extra` adds code-generation options. */
export function makeAjv(extra: Options = {}): Ajv2020 {
  return withFormats(new Ajv2020({ ...AJV_OPTIONS, ...extra }));
}
