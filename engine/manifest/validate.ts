// The two validation layers over a set of sources: structure (Ajv against `schemas/`), then
// cross-checks (within each manifest and across the catalogue). Every error is collected;
// nothing stops at the first.
import {
  type ConnectorDefinition,
  type ConnectorRegistry,
  makeConnectorRegistry,
} from '../connector-sdk/index.ts';
import { Catalogue, type CatalogueEntry, type Manifest, manifestHash } from './catalogue.ts';
import { checkCalls } from './checks/calls.ts';
import { checkCredentials } from './checks/credentials.ts';
import { checkAgent, checkOAuthProvider, checkWebhookRoute } from './checks/others.ts';
import { type CatalogueIds, checkWorkflow } from './checks/workflow.ts';
import { checkStructure, type ManifestDoc } from './document.ts';
import { compareErrors, type ManifestError } from './errors.ts';
import { MANIFEST_KINDS } from './schemas.ts';
import { locate, parseSource } from './source.ts';

/** A manifest source: file text (YAML or JSON, one or more documents) or a parsed object. */
export type ManifestSource = { file: string; text: string } | { file?: string; manifest: unknown };

export interface ValidateOptions {
  /** The connectors whose actions `uses` may name: definitions, or a registry already built. */
  connectors: readonly ConnectorDefinition[] | ConnectorRegistry;
}

export interface ValidationResult {
  /** Present only when there are no errors. */
  catalogue?: Catalogue;
  /** Sorted by file, line and column. */
  errors: ManifestError[];
  /** Problems that do not make the catalogue invalid (`severity: 'warning'`), sorted the same. */
  warnings: ManifestError[];
}

function toRegistry(connectors: ValidateOptions['connectors']): ConnectorRegistry {
  return Array.isArray(connectors) ? makeConnectorRegistry(connectors) : (connectors as ConnectorRegistry);
}

/** Validates manifests given as text or objects; the API and tests use this, `loadCatalogue` reads files. */
export function validateSources(
  sources: readonly ManifestSource[],
  options: ValidateOptions,
): ValidationResult {
  const registry = toRegistry(options.connectors);
  const reported: ManifestError[] = [];
  const docs: ManifestDoc[] = [];
  sources.forEach((source, n) => {
    const file = source.file ?? `<manifest ${n + 1}>`;
    // An object is serialised with indentation so its errors still have useful positions.
    const text = 'text' in source ? source.text : (JSON.stringify(source.manifest, null, 2) ?? 'null');
    const parsed = parseSource(file, text);
    reported.push(...parsed.errors);
    for (const sourceDoc of parsed.docs) {
      const doc = checkStructure(sourceDoc, reported);
      if (doc) docs.push(doc);
    }
  });
  const ids = collectIds(docs);
  for (const doc of docs) {
    checkCredentials(doc);
    if (doc.valid) crossCheck(doc, registry, ids);
  }
  checkCalls(docs);
  checkDuplicates(docs);
  const errors = reported.filter((e) => e.severity !== 'warning').sort(compareErrors);
  const warnings = reported.filter((e) => e.severity === 'warning').sort(compareErrors);
  if (errors.length > 0) return { errors, warnings };
  const entries: CatalogueEntry[] = docs.map((doc) => ({
    manifest: doc.value as unknown as Manifest,
    hash: manifestHash(doc.value),
    file: doc.source.file,
  }));
  return { catalogue: new Catalogue(entries), errors, warnings };
}

function crossCheck(doc: ManifestDoc, registry: ConnectorRegistry, ids: CatalogueIds): void {
  if (doc.kind === 'Workflow') checkWorkflow(doc, registry, ids);
  else if (doc.kind === 'Agent') checkAgent(doc, registry);
  else if (doc.kind === 'OAuthProvider') checkOAuthProvider(doc);
  else checkWebhookRoute(doc);
}

function collectIds(docs: readonly ManifestDoc[]): CatalogueIds {
  const ids = Object.fromEntries(MANIFEST_KINDS.map((k) => [k, new Set<string>()])) as Record<
    string,
    Set<string>
  >;
  for (const doc of docs) if (doc.id !== null) ids[doc.kind]!.add(doc.id);
  return ids as unknown as CatalogueIds;
}

/** Ids are unique per kind across the whole catalogue; webhook paths are unique too. */
function checkDuplicates(docs: readonly ManifestDoc[]): void {
  const first = new Map<string, ManifestDoc>();
  for (const doc of docs) {
    const keys: [string, (string | number)[], string][] = [];
    if (doc.id !== null) keys.push([`${doc.kind}/${doc.id}`, ['id'], `${doc.kind} ${doc.id}`]);
    const path = doc.kind === 'WebhookRoute' && doc.valid ? (doc.value.path as string) : undefined;
    if (path !== undefined)
      keys.push([`path:${(doc.value.method as string) ?? 'POST'} ${path}`, ['path'], `the path ${path}`]);
    for (const [key, at, what] of keys) {
      const earlier = first.get(key);
      if (!earlier) {
        first.set(key, doc);
        continue;
      }
      const { line, column } = locate(earlier.source, at);
      const where = `${earlier.source.file}:${line}:${column}`;
      doc.report(
        at,
        key.startsWith('path:') ? 'duplicate-path' : 'duplicate-id',
        `${what} is already defined at ${where}`,
      );
    }
  }
}
