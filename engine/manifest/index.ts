/**
 * The manifest language: load YAML/JSON manifests with source positions, validate them in
 * two layers (structure against `schemas/`, then cross-checks), and hand out an immutable
 * catalogue whose entries carry a content hash.
 *
 *   const { catalogue, errors } = await loadCatalogue({ connectors: builtinConnectors });
 *   if (!catalogue) { console.error(formatErrors(errors)); process.exit(1); }
 *   const wf = catalogue.workflow('WF-010'); // { manifest, hash, file }
 */

export { parseDuration } from '../connector-sdk/duration.ts';
export { Catalogue, type CatalogueEntry, canonicalJson, type Manifest, manifestHash } from './catalogue.ts';
export { cronProblem } from './checks/workflow.ts';
export { formatError, formatErrors, type ManifestError } from './errors.ts';
export { type LoadOptions, loadCatalogue, manifestDirs } from './load.ts';
export { MANIFEST_KINDS, type ManifestKind, SCHEMA_DIR, SCHEMA_FILES } from './schemas.ts';
export type * from './types.gen.ts';
export {
  type ManifestSource,
  type ValidateOptions,
  type ValidationResult,
  validateSources,
} from './validate.ts';
