// The manifest schemas, read from `schemas/` (the single source of truth). Files carry no
// `$id`, so editors resolve their relative `$ref`s by file location; here each file is
// registered under a base URI so Ajv resolves them the same way. The validators the loader
// runs are precompiled from them (validators.ts, validators.gen.js); this module is what the
// generator itself uses, so it must never import the generated code.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Options } from 'ajv';
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

/** What manifests add to the one Ajv's options: `discriminator` for `kind` and trigger types. */
export const MANIFEST_AJV_OPTIONS = { discriminator: true } as const satisfies Options;
