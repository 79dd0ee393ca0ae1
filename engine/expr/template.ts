// `{{ path }}` templates. Grammar (kept deliberately small):
//   template := '{{' path [ '??' literal ] '}}'
//   path     := ident ( '.' key | '[' digits ']' | '[' quoted ']' )*
//   literal  := quoted string | number | true | false | null
// No expressions or function calls: a computed value is a `{ $expr: rule }` (compute.ts).
import type { Path } from './path.ts';

export class TemplateSyntaxError extends Error {
  constructor(
    message: string,
    readonly template: string,
  ) {
    super(message);
    this.name = 'TemplateSyntaxError';
  }
}

export interface ParsedTemplate {
  path: Path;
  /** Present when the template has a `?? literal` fallback. */
  fallback?: { value: unknown };
}

const IDENT = /^[A-Za-z_$][\w$-]*/;
const LITERAL = /^('([^'\\]*)'|"([^"\\]*)"|-?\d+(\.\d+)?|true|false|null)$/;

/** Parses the inside of one `{{ ... }}`; throws TemplateSyntaxError with a plain reason. */
export function parseTemplate(inner: string): ParsedTemplate {
  const [pathText = '', ...rest] = inner.split('??');
  const path = parsePath(pathText.trim(), inner);
  if (rest.length === 0) return { path };
  const literal = rest.join('??').trim();
  const match = LITERAL.exec(literal);
  if (!match) {
    throw new TemplateSyntaxError(
      `the fallback after ?? must be a quoted string, a number, true, false or null`,
      inner,
    );
  }
  const value = match[2] ?? match[3] ?? JSON.parse(literal);
  return { path, fallback: { value } };
}

// One path step after the first identifier: `.key`, `.0`, `[0]`, `['key']` or `["key"]`.
const SEGMENT = /^(?:\.([A-Za-z_$][\w$-]*)|\.(\d+)|\[(0|[1-9]\d*)\]|\['([^'\\]*)'\]|\["([^"\\]*)"\])/;

function parsePath(text: string, inner: string): Path {
  const first = IDENT.exec(text);
  if (!first)
    throw new TemplateSyntaxError(`"${inner.trim()}" is not a path like steps.fetch.output.id`, inner);
  const path: Path = [first[0]];
  let rest = text.slice(first[0].length);
  while (rest.length > 0) {
    const m = SEGMENT.exec(rest);
    if (!m) throw new TemplateSyntaxError(`unexpected "${rest}" in the path "${text}"`, inner);
    const [, key, dotIndex, index, single, double] = m;
    path.push(key ?? single ?? double ?? Number(dotIndex ?? index));
    rest = rest.slice(m[0].length);
  }
  return path;
}

/** One `{{ ... }}` occurrence inside a string. */
export interface TemplateMatch {
  /** The full text, braces included. */
  raw: string;
  inner: string;
  /** Offset of `raw` within the string. */
  index: number;
}

const TEMPLATE = /\{\{([^{}]*)\}\}/g;

/** Finds the templates of a string, and an unclosed `{{` if there is one. */
export function findTemplates(text: string): { matches: TemplateMatch[]; unclosedAt?: number } {
  const matches: TemplateMatch[] = [];
  for (const m of text.matchAll(TEMPLATE)) matches.push({ raw: m[0], inner: m[1] ?? '', index: m.index });
  const stripped = text.replace(TEMPLATE, (raw) => ' '.repeat(raw.length));
  const unclosed = stripped.indexOf('{{');
  return unclosed === -1 ? { matches } : { matches, unclosedAt: unclosed };
}

/** True when the string is exactly one template (surrounding spaces allowed): it keeps its value's type. */
export function isWholeTemplate(text: string, matches: TemplateMatch[]): boolean {
  return matches.length === 1 && text.trim() === matches[0]!.raw;
}
