/**
 * Audit entries as PostgreSQL will store them: text without NUL or lone surrogates (which
 * text and jsonb refuse or change; U+FFFD instead), so that their hashes are of what is
 * stored.
 */
/** What PostgreSQL's text and jsonb refuse or change: NUL and lone surrogates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what is looked for.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const HAS_UNSTORABLE = new RegExp(UNSTORABLE.source);

/** A JSON.stringify replacer: strings and keys made storable. */
function storable(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return wellFormed(value);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (!keys.some((k) => HAS_UNSTORABLE.test(k))) return value;
  return Object.fromEntries(keys.map((k) => [wellFormed(k), (value as Record<string, unknown>)[k]]));
}

export const wellFormed = (text: string): string => text.replace(UNSTORABLE, '\uFFFD');
export const optional = (text: string | null | undefined): string | null =>
  text === undefined || text === null ? null : wellFormed(text);

/**
 * The summary as JSON, bounded (a preview of its text past `limit` characters) and made
 * storable. JSON.stringify writes NUL and lone surrogates as `\u` escapes, so a text
 * without such an escape needs no second pass through the (slow) replacer.
 */
export function storableJson(summary: unknown, limit: number): string {
  const text = JSON.stringify(summary) ?? 'null';
  const bounded = text.length <= limit ? summary : { truncated: true, preview: text.slice(0, limit) };
  const out = bounded === summary ? text : (JSON.stringify(bounded) ?? 'null');
  return ESCAPED_UNSTORABLE.test(out) ? (JSON.stringify(bounded, storable) ?? 'null') : out;
}

/** What JSON.stringify writes for NUL and lone surrogates (a literal `\u0000` in text too). */
const ESCAPED_UNSTORABLE = /\\u(0000|d[89a-f])/i;
