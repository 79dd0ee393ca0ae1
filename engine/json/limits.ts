/**
 * Parse limits for JSON that comes from outside (API and webhook bodies, provider responses,
 * a model's tool arguments): a nesting depth and a size cap, checked by an iterative scan
 * before `JSON.parse`. V8 parses deep JSON without trouble, but everything that walks the
 * value afterwards (JSON.stringify, schema validation, redaction, the database driver)
 * recurses, and 8,000 levels end in a RangeError far from where the data came in.
 */

/** Deepest nesting of objects and arrays accepted from outside; `{}` is depth 1. */
export const MAX_JSON_DEPTH = 64;

export class JsonLimitError extends Error {
  constructor(
    readonly limit: 'depth' | 'size',
    message: string,
  ) {
    super(message);
    this.name = 'JsonLimitError';
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/**
 * Follows the nesting of JSON text fed in pieces (strings or UTF-8 bytes: every structural
 * character is ASCII, and no byte of a multi-byte UTF-8 sequence is). Malformed text is not
 * its concern: `JSON.parse` rejects it afterwards.
 */
export class DepthScanner {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Characters (or bytes) scanned so far. */
  private seen = 0;
  /** The offset at which the depth first passed the cap, if it did. */
  exceededAt: number | undefined;

  constructor(readonly maxDepth = MAX_JSON_DEPTH) {}

  /** Scans one more piece; false once the depth has passed the cap. */
  feed(chunk: string | Uint8Array): boolean {
    if (this.exceededAt !== undefined) return false;
    const text = typeof chunk === 'string';
    const length = text ? chunk.length : chunk.byteLength;
    for (let i = 0; i < length; i++) {
      const c = text ? chunk.charCodeAt(i) : chunk[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
      } else if (c === QUOTE) this.inString = true;
      else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        if (++this.depth > this.maxDepth) {
          this.exceededAt = this.seen + i;
          return false;
        }
      } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) this.depth--;
    }
    this.seen += length;
    return true;
  }
}

export interface JsonLimits {
  /** Deepest nesting accepted (default {@link MAX_JSON_DEPTH}). */
  maxDepth?: number;
  /** Longest text accepted, in characters (default: no cap here; the reader caps bytes). */
  maxLength?: number;
}

/** The error for text nested deeper than `maxDepth`, in one sentence. */
export function tooDeep(maxDepth: number, at?: number): JsonLimitError {
  const where = at === undefined ? '' : ` (at character ${at + 1})`;
  return new JsonLimitError('depth', `the JSON is nested deeper than ${maxDepth} levels${where}`);
}

/** Throws a {@link JsonLimitError} when the text passes a limit. */
export function checkJsonLimits(text: string | Uint8Array, limits: JsonLimits = {}): void {
  const maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH;
  const length = typeof text === 'string' ? text.length : text.byteLength;
  if (limits.maxLength !== undefined && length > limits.maxLength)
    throw new JsonLimitError('size', `the JSON is ${length} characters long, more than ${limits.maxLength}`);
  const scanner = new DepthScanner(maxDepth);
  if (!scanner.feed(text)) throw tooDeep(maxDepth, scanner.exceededAt);
}

/**
 * `JSON.parse` behind the limits: a {@link JsonLimitError} when the text passes one, the
 * parser's SyntaxError when it is not JSON.
 */
export function parseJson(text: string, limits: JsonLimits = {}): unknown {
  checkJsonLimits(text, limits);
  return JSON.parse(text);
}
