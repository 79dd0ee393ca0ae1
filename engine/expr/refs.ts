import { hasExpr } from './compute.ts';
import type { Path } from './path.ts';
import { findTemplates, isWholeTemplate, parseTemplate, TemplateSyntaxError } from './template.ts';

/** A template found inside a (deep) value, for validation. */
export interface TemplateRef {
  /** The full template text, braces included (`{{ input.name }}`). */
  raw: string;
  /** The path it reads (`['input', 'name']`); empty when `error` is set. */
  path: Path;
  /** Where the string sits inside the scanned value. */
  at: Path;
  /** Offset of `raw` inside that string. */
  index: number;
  /** The string is exactly this template, so the value keeps its type. */
  whole: boolean;
  /** The template has a `?? literal` fallback, so a missing value is not an error. */
  hasFallback: boolean;
  /** A syntax error (an unclosed `{{`, a malformed path or fallback). */
  error?: string;
}

/**
 * Lists every template in a value (strings anywhere inside objects and arrays), except inside
 * `{ $expr }` rules, whose strings are literals.
 */
export function templateRefs(value: unknown, at: Path = []): TemplateRef[] {
  const refs: TemplateRef[] = [];
  walkStrings(
    value,
    at,
    (text, where) => {
      const { matches, unclosedAt } = findTemplates(text);
      const whole = isWholeTemplate(text, matches);
      for (const m of matches) {
        try {
          const parsed = parseTemplate(m.inner);
          refs.push({
            raw: m.raw,
            path: parsed.path,
            at: where,
            index: m.index,
            whole,
            hasFallback: !!parsed.fallback,
          });
        } catch (err) {
          if (!(err instanceof TemplateSyntaxError)) throw err;
          refs.push({
            raw: m.raw,
            path: [],
            at: where,
            index: m.index,
            whole,
            hasFallback: false,
            error: err.message,
          });
        }
      }
      if (unclosedAt !== undefined) {
        const raw = text.slice(unclosedAt, unclosedAt + 2);
        refs.push({
          raw,
          path: [],
          at: where,
          index: unclosedAt,
          whole: false,
          hasFallback: false,
          error: '"{{" is never closed with "}}"',
        });
      }
    },
    hasExpr,
  );
  return refs;
}

/** Calls `visit` for every string in a value, with its path; `skip` prunes subtrees. */
export function walkStrings(
  value: unknown,
  at: Path,
  visit: (text: string, at: Path) => void,
  skip?: (value: unknown) => boolean,
): void {
  if (skip?.(value)) return;
  if (typeof value === 'string') visit(value, at);
  else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) walkStrings(item, [...at, i], visit, skip);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) walkStrings(item, [...at, key], visit, skip);
  }
}
