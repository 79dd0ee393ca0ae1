// Parsing YAML and JSON manifests, with source positions when they are needed. JSON is
// parsed as YAML too (it is YAML 1.2), so both get the same ranges and the same error mapping.
// A file is read into plain values on the fast path (`fast-parse.ts`); the `yaml` library's
// document with ranges, which `locate` reads, is built the first time an error of that file
// needs a place, or at once when the fast path declines the file.
import { createRequire } from 'node:module';
import type * as YamlLibrary from 'yaml';
import type { Document, LineCounter, Node, Pair } from 'yaml';
import { MAX_JSON_DEPTH } from '../json/limits.ts';
import type { ManifestError } from './errors.ts';
import { fastParse } from './fast-parse.ts';

let library: typeof YamlLibrary | undefined;
/**
 * The `yaml` library, loaded on first use: a valid catalogue never needs it, and loading it
 * took as long as validating a hundred manifests. In the compiled CLI the bundler turns this
 * `require` into a call of the bundled copy; from the sources it is Node's own.
 */
function yaml(): typeof YamlLibrary {
  library ??= (
    typeof require === 'function' ? require('yaml') : createRequire(import.meta.url)('yaml')
  ) as typeof YamlLibrary;
  return library;
}

/** Largest manifest file read, in characters: a catalogue entry is a few kilobytes. */
const MAX_MANIFEST_CHARS = 1_000_000;

/** Most alias expansions per document (YAML's "billion laughs" multiplies them). */
const MAX_ALIAS_COUNT = 100;

export type Path = (string | number)[];

/** The document model with source ranges that `locate` reads. */
interface Positions {
  lines: LineCounter;
  yaml: Document;
  contents: Node | null;
}

/** One document of a file: a file may hold several (`---`). */
export interface SourceDoc {
  file: string;
  /** 0-based index of the document in its file. */
  index: number;
  text: string;
  /** The document as plain data. */
  value: unknown;
  /** Its document model with ranges, built on first use. */
  positions(): Positions;
}

export interface ParsedFile {
  docs: SourceDoc[];
  /** Syntax errors, positioned; documents with errors are left out of `docs`. */
  errors: ManifestError[];
}

/** Parses every document of a file; syntax errors become ManifestErrors, never exceptions. */
export function parseSource(file: string, text: string): ParsedFile {
  if (text.length > MAX_MANIFEST_CHARS) {
    const message = `the file is larger than 1 MB (${text.length} characters); split it`;
    return {
      docs: [],
      errors: [{ file, line: 1, column: 1, kind: null, id: null, keyword: 'yaml', message }],
    };
  }
  const values = fastParse(text);
  // Too deep a document is reported with its place, which the full parser knows.
  if (values === undefined || values.some((v) => tooDeepAt(v, MAX_JSON_DEPTH))) return parseFully(file, text);
  let model: { lines: LineCounter; docs: Document[] } | undefined;
  const positions = (index: number) => (): Positions => {
    // The fast path yields no empty document, so its n-th is the n-th one with contents.
    model ??= composeDocuments(text);
    const yaml = model.docs.filter((d) => d.contents !== null)[index]!;
    return { lines: model.lines, yaml, contents: (yaml.contents ?? null) as Node | null };
  };
  const docs = values.map(
    (value, index): SourceDoc => ({ file, index, text, value, positions: positions(index) }),
  );
  return { docs, errors: [] };
}

function composeDocuments(text: string): { lines: LineCounter; docs: Document[] } {
  const { LineCounter, parseAllDocuments } = yaml();
  const lines = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  return { lines, docs: Array.isArray(parsed) ? parsed : [] };
}

/** The full parser: every document with its ranges, and every syntax error with its place. */
function parseFully(file: string, text: string): ParsedFile {
  const { lines, docs: list } = composeDocuments(text);
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
    const model: Positions = { lines, yaml: doc, contents: doc.contents as Node };
    const entry: SourceDoc = { file, index, text, value, positions: () => model };
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
  const { visit } = yaml();
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

function resolveAlias(node: unknown, doc: Positions): Node | null {
  if (yaml().isAlias(node)) return (node.resolve(doc.yaml) ?? null) as Node | null;
  return (node ?? null) as Node | null;
}

function find(doc: Positions, path: Path): Found {
  const { isMap, isScalar, isSeq } = yaml();
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
  const model = doc.positions();
  const { isScalar } = yaml();
  const { node, pair, depth } = find(model, path);
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
  const { line, col } = model.lines.linePos(offset ?? model.contents?.range?.[0] ?? 0);
  return { line, column: col };
}
