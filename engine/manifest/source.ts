// Parsing YAML and JSON manifests with source positions. JSON is parsed by the YAML
// parser too (it is YAML 1.2), so both get the same ranges and the same error mapping.
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseAllDocuments,
  visit,
} from 'yaml';
import { MAX_JSON_DEPTH } from '../json/limits.ts';
import type { ManifestError } from './errors.ts';

/** Largest manifest file read, in characters: a catalogue entry is a few kilobytes. */
const MAX_MANIFEST_CHARS = 1_000_000;

/** Most alias expansions per document (YAML's "billion laughs" multiplies them). */
const MAX_ALIAS_COUNT = 100;

export type Path = (string | number)[];

/** One document of a file: a file may hold several (`---`). */
export interface SourceDoc {
  file: string;
  /** 0-based index of the document in its file. */
  index: number;
  text: string;
  lines: LineCounter;
  yaml: Document;
  contents: Node | null;
  /** The document as plain data (undefined when it did not parse). */
  value: unknown;
}

export interface ParsedFile {
  docs: SourceDoc[];
  /** Syntax errors, positioned; documents with errors are left out of `docs`. */
  errors: ManifestError[];
}

/** Parses every document of a file; syntax errors become ManifestErrors, never exceptions. */
export function parseSource(file: string, text: string): ParsedFile {
  const lines = new LineCounter();
  const docs: SourceDoc[] = [];
  const errors: ManifestError[] = [];
  const at = (line: number, column: number, message: string): ManifestError => ({
    file,
    line,
    column,
    kind: null,
    id: null,
    keyword: 'yaml',
    message,
  });
  const error = (offset: number, message: string): ManifestError => {
    const { line, col } = lines.linePos(offset);
    return at(line, col, message);
  };
  if (text.length > MAX_MANIFEST_CHARS) {
    const message = `the file is larger than 1 MB (${text.length} characters); split it`;
    return { docs, errors: [at(1, 1, message)] };
  }
  const parsed = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(parsed) ? parsed : [];
  list.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      // The composer recurses: nesting thousands deep ends its walk with a RangeError.
      const overflow = doc.errors.find((e) => /call stack/i.test(e.message));
      if (overflow) errors.push(error(overflow.pos[0], TOO_DEEP));
      else
        for (const err of doc.errors)
          errors.push(error(err.pos[0], `invalid YAML: ${yamlMessage(err.message)}`));
      return;
    }
    if (doc.contents === null) return; // an empty document, e.g. after a trailing `---`
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
    } catch (err) {
      errors.push(
        error(firstAlias(doc) ?? doc.contents.range?.[0] ?? 0, `invalid YAML: ${(err as Error).message}`),
      );
      return;
    }
    const entry: SourceDoc = { file, index, text, lines, yaml: doc, contents: doc.contents as Node, value };
    const deep = tooDeepAt(value, MAX_JSON_DEPTH);
    if (deep) {
      const { line, column } = locate(entry, deep);
      errors.push(at(line, column, TOO_DEEP));
      return;
    }
    docs.push(entry);
  });
  return { docs, errors };
}

const TOO_DEEP = `invalid YAML: nested deeper than ${MAX_JSON_DEPTH} levels`;

/** Where the first alias of a document starts: where an alias explosion begins. */
function firstAlias(doc: Document): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0];
      return visit.BREAK;
    },
  });
  return offset;
}

/**
 * The path to the first value nested deeper than `max` levels (aliases expanded), found
 * without recursion; undefined when there is none.
 */
function tooDeepAt(value: unknown, max: number): Path | undefined {
  const stack: Array<{ value: unknown; path: Path }> = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (path.length >= max) return path;
    const entries = Array.isArray(current) ? current.entries() : Object.entries(current);
    for (const [key, item] of entries) stack.push({ value: item, path: [...path, key] });
  }
  return undefined;
}

function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '').trim();
}

interface Found {
  node: Node | null;
  pair: Pair | undefined;
  /** How many path segments were found. */
  depth: number;
}

function resolveAlias(node: unknown, doc: SourceDoc): Node | null {
  if (isAlias(node)) return (node.resolve(doc.yaml) ?? null) as Node | null;
  return (node ?? null) as Node | null;
}

function find(doc: SourceDoc, path: Path): Found {
  let node: Node | null = doc.contents;
  let pair: Pair | undefined;
  let depth = 0;
  for (const segment of path) {
    if (isMap(node)) {
      const next = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (!next) break;
      pair = next as Pair;
      node = resolveAlias(next.value, doc);
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)];
      if (item === undefined) break;
      pair = undefined;
      node = resolveAlias(item, doc);
    } else break;
    depth++;
  }
  return { node, pair, depth };
}

export interface LocateOptions {
  /** Point at the key (an unknown field) rather than the value. */
  key?: boolean;
  /** A piece of the scalar's source (a template) to point at, inside the value. */
  needle?: string;
  /** Report a warning rather than an error. */
  warning?: boolean;
}

/** The 1-based line and column of a path inside a document. */
export function locate(
  doc: SourceDoc,
  path: Path,
  options: LocateOptions = {},
): { line: number; column: number } {
  const { node, pair, depth } = find(doc, path);
  const complete = depth === path.length;
  const keyRange = pair && isScalar(pair.key) ? pair.key.range : undefined;
  let offset: number | undefined;
  if (keyRange && (options.key || !complete || !isScalar(node) || node.range === undefined))
    offset = keyRange[0];
  else if (node?.range) {
    offset = node.range[0];
    if (options.needle && isScalar(node)) {
      const found = doc.text.slice(node.range[0], node.range[1]).indexOf(options.needle);
      if (found >= 0) offset += found;
    }
  }
  const { line, col } = doc.lines.linePos(offset ?? doc.contents?.range?.[0] ?? 0);
  return { line, column: col };
}
