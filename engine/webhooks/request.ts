/**
 * Reading a webhook request: its content type, its raw bytes (bounded), the JSON they hold
 * once verified, and the values the route's locators point at. Every refusal is a
 * {@link WebhookRejection} with a stable reason (a metric label and an audit field).
 */
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { isSecretKey } from '../audit/redact.ts';
import { JsonLimitError, parseJson } from '../json/limits.ts';
import type { Locator } from './routes.ts';

export class WebhookRejection extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'WebhookRejection';
  }
}

const JSON_TYPE = /^application\/(?:[a-z0-9.+-]+\+)?json$/;

/** Providers send `application/json` (Stripe and Teams add `; charset=utf-8`). */
export function checkContentType(ctx: Context): void {
  const header = ctx.get('content-type');
  const [type = '', ...parameters] = header.split(';').map((p) => p.trim().toLowerCase());
  if (!JSON_TYPE.test(type)) {
    const got = header === '' ? 'no Content-Type' : `Content-Type ${type.slice(0, 100)}`;
    throw new WebhookRejection(415, 'content_type', `Expected application/json, got ${got}.`);
  }
  const charset = parameters
    .find((p) => p.startsWith('charset='))
    ?.slice(8)
    .replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new WebhookRejection(415, 'content_type', `Webhook bodies must be UTF-8, got charset=${charset}.`);
  }
}

/** The raw bytes, at most `limit` (413 beyond, before reading when Content-Length says so). */
export async function readRaw(ctx: Context, limit: number): Promise<Buffer> {
  const length = ctx.get('content-length');
  try {
    return await getRawBody(ctx.req, { limit, ...(length === '' ? {} : { length }) });
  } catch (err) {
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large')
      throw new WebhookRejection(413, 'too_large', `The body is larger than ${limit} bytes.`);
    if (type === 'request.size.invalid')
      throw new WebhookRejection(400, 'body_length', 'The body is shorter or longer than Content-Length.');
    // Aborted, truncated or otherwise unreadable: the client's side failed, not ours.
    throw new WebhookRejection(400, 'body_unreadable', 'The body could not be read.');
  }
}

/**
 * JSON PostgreSQL's jsonb refuses: a `\u0000` escape or a lone surrogate (`\ud800`), after
 * an even number of backslashes (an escaped backslash followed by "u0000" is plain text).
 */
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/** The body as a JSON object; only called on verified bytes (or to find a body-held tenant). */
export function parseBody(raw: Buffer): Record<string, unknown> {
  const text = raw.toString('utf8');
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (err) {
    if (err instanceof JsonLimitError)
      throw new WebhookRejection(400, 'too_deep', `The body is refused: ${err.message}.`);
    throw new WebhookRejection(400, 'invalid_json', 'The body is not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new WebhookRejection(400, 'invalid_json', 'The body must be a JSON object.');
  }
  // A raw NUL cannot appear in JSON text, but its escape and lone surrogates can; PostgreSQL
  // cannot store either, and a refusal now beats a 500 at insert time.
  if (text.includes('\\u') && UNSTORABLE_ESCAPE.test(JSON.stringify(value))) {
    throw new WebhookRejection(
      400,
      'invalid_json',
      'The body holds \\u0000 or a lone surrogate, which cannot be stored.',
    );
  }
  return value as Record<string, unknown>;
}

const MAX_VALUE_LENGTH = 256;

/**
 * The text a locator points at, or undefined when absent. Ids are strings or integers
 * (Telegram's `update_id` is a number); anything else is refused rather than stringified.
 */
export function locate(
  ctx: Context,
  locator: Locator,
  body: Record<string, unknown> | undefined,
): string | undefined {
  let value: unknown;
  if (locator.source === 'headers') value = ctx.get(locator.path[0]!) || undefined;
  else if (locator.source === 'query') value = ctx.query[locator.path[0]!];
  else value = readPath(body, locator.path);
  if (value === undefined || value === null || value === '') return undefined;
  if (Array.isArray(value) && locator.source === 'query')
    throw new WebhookRejection(400, 'locator_invalid', `${locator.text} is given more than once.`);
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== 'string' || text.length > MAX_VALUE_LENGTH || text.includes('\u0000'))
    throw new WebhookRejection(
      400,
      'locator_invalid',
      `${locator.text} must be a string of at most ${MAX_VALUE_LENGTH} characters or an integer.`,
    );
  return text;
}

function readPath(body: Record<string, unknown> | undefined, path: string[]): unknown {
  let current: unknown = body;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Request headers a workflow may read as `trigger.headers`: never credentials or signatures. */
export function keptHeaders(ctx: Context, signatureHeader: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(ctx.headers)) {
    if (typeof value !== 'string' || name === signatureHeader || isSecretKey(name)) continue;
    out[name] = value;
  }
  return out;
}

export function keptQuery(ctx: Context): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(ctx.query)) {
    // A `%00` decodes to NUL, which PostgreSQL cannot store in the run's trigger.
    if (typeof value === 'string' && !isSecretKey(name) && !`${name}${value}`.includes('\u0000'))
      out[name] = value;
  }
  return out;
}
