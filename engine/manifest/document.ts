// A manifest document on its way through validation, and the error reporter bound to it.
import type { ErrorObject } from 'ajv';
import { describeErrors, didYouMean } from '../connector-sdk/index.ts';
import { describePath } from '../connector-sdk/schema-errors.ts';
import type { ManifestError } from './errors.ts';
import { isManifestKind, MANIFEST_KINDS, type ManifestKind } from './schemas.ts';
import { type LocateOptions, locate, type Path, type SourceDoc } from './source.ts';
import { kindValidator } from './validators.ts';

export interface ManifestDoc {
  source: SourceDoc;
  kind: ManifestKind;
  /** The `id` when it is a string (even an invalid one), for messages and references. */
  id: string | null;
  value: Record<string, unknown>;
  /** Passed the structural (schema) layer; only such documents are cross-checked. */
  valid: boolean;
  report(path: Path, keyword: string, message: string, options?: LocateOptions): void;
}

/** Builds the `report` function of a document: positions are looked up in its source. */
export function reporter(source: SourceDoc, kind: string | null, id: string | null, sink: ManifestError[]) {
  return (path: Path, keyword: string, message: string, options: LocateOptions = {}): void => {
    const { line, column } = locate(source, path, options);
    sink.push({
      file: source.file,
      line,
      column,
      kind,
      id,
      keyword,
      message,
      ...(options.warning ? { severity: 'warning' as const } : {}),
    });
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The structural layer: is it a manifest of a known kind, and does it match its schema?
 * Returns undefined when the kind cannot be told (nothing more can be checked).
 */
export function checkStructure(source: SourceDoc, sink: ManifestError[]): ManifestDoc | undefined {
  const value = source.value;
  const rawId = isRecord(value) && typeof value.id === 'string' ? value.id : null;
  const rawKind = isRecord(value) && typeof value.kind === 'string' ? value.kind : null;
  const report = reporter(source, isManifestKind(rawKind) ? rawKind : null, rawId, sink);
  if (!isRecord(value)) {
    report([], 'not-a-manifest', 'not a manifest: expected a map with apiVersion, kind and id');
    return undefined;
  }
  if (!('kind' in value)) {
    report(
      [],
      'required',
      `the manifest is missing the required field "kind" (one of ${MANIFEST_KINDS.join(', ')})`,
    );
    return undefined;
  }
  if (!isManifestKind(value.kind)) {
    const hint = typeof value.kind === 'string' ? didYouMean(value.kind, MANIFEST_KINDS) : '';
    report(
      ['kind'],
      'enum',
      `kind must be one of ${MANIFEST_KINDS.join(', ')}, not ${JSON.stringify(value.kind)}${hint}`,
    );
    return undefined;
  }
  const validate = kindValidator(value.kind);
  const valid = validate(value);
  if (!valid) {
    const ifs = misplacedIfs(value.kind, validate.errors ?? []);
    if (ifs) {
      // Only `if`s are wrong: say how to write one, and check the rest of the file without
      // them, so the file's other errors show up in the same report.
      const rest = structuredClone(value);
      for (const at of ifs) {
        report(at, 'logic', `${describePath(at)} ${IF_EXAMPLE}`);
        deleteAt(rest, at);
      }
      if (validate(rest)) return { source, kind: value.kind, id: rawId, value: rest, valid: true, report };
    }
    for (const issue of describeErrors(validate.errors ?? [])) {
      report(issue.path, issue.keyword, issue.message, { key: issue.atKey });
    }
  }
  return { source, kind: value.kind, id: rawId, value, valid, report };
}

const IF_EXAMPLE =
  'must be a JSON Logic rule (a map), not text; for example if: { "==": [{ var: input.pro }, true] }';

/** The `if`s (of steps or the trigger) that fail as a whole, when they are the only errors. */
function misplacedIfs(kind: ManifestKind, errors: readonly ErrorObject[]): Path[] | undefined {
  if (kind !== 'Workflow' || errors.length === 0) return undefined;
  const paths = new Map<string, Path>();
  for (const e of errors) {
    const m = /^\/(?:steps\/(\d+)|trigger)\/if$/.exec(e.instancePath);
    if (!m || typeof e.data !== 'string') return undefined;
    paths.set(e.instancePath, m[1] === undefined ? ['trigger', 'if'] : ['steps', Number(m[1]), 'if']);
  }
  return [...paths.values()];
}

function deleteAt(value: Record<string, unknown>, at: Path): void {
  let node: unknown = value;
  for (const key of at.slice(0, -1)) node = (node as Record<string | number, unknown>)[key];
  delete (node as Record<string | number, unknown>)[at.at(-1)!];
}
