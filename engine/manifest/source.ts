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
} from 'yaml';
import type { ManifestError } from './errors.ts';

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
  const parsed = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(parsed) ? parsed : [];
  list.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        const { line, col } = lines.linePos(err.pos[0]);
        errors.push({
          file,
          line,
          column: col,
          kind: null,
          id: null,
          keyword: 'yaml',
          message: `invalid YAML: ${yamlMessage(err.message)}`,
        });
      }
      return;
    }
    if (doc.contents === null) return; // an empty document, e.g. after a trailing `---`
    try {
      const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
      docs.push({ file, index, text, lines, yaml: doc, contents: doc.contents as Node, value });
    } catch (err) {
      const { line, col } = lines.linePos(doc.contents.range?.[0] ?? 0);
      errors.push({
        file,
        line,
        column: col,
        kind: null,
        id: null,
        keyword: 'yaml',
        message: `invalid YAML: ${(err as Error).message}`,
      });
    }
  });
  return { docs, errors };
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
