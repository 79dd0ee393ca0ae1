/**
 * JSON request bodies, read only on routes that declare one: at most `limit` bytes (413
 * beyond, before reading when Content-Length says so), `application/json` or a `+json` type
 * in UTF-8 only (415 otherwise), syntactically valid and nested at most 64
 * levels deep (400 otherwise).
 */
import type { Next } from 'koa';
import getRawBody from 'raw-body';
import { JsonLimitError, parseJson } from '../json/limits.ts';
import { problem } from '../problem.ts';
import type { ApiContext } from './context.ts';

const JSON_TYPE = /^application\/(?:[a-z0-9.+-]+\+)?json$/;

export function jsonBody(limitBytes: number) {
  return async (ctx: ApiContext, next: Next) => {
    const spec = ctx.state.route?.spec;
    if (!spec?.body) return next();
    if (!hasBody(ctx)) {
      if (spec.bodyRequired ?? true) throw problem.badRequest('A JSON body is required.');
      return next();
    }
    checkContentType(ctx);
    const text = await readText(ctx, limitBytes);
    try {
      ctx.state.body = parseJson(text);
    } catch (err) {
      if (err instanceof JsonLimitError) throw problem.badRequest(`The body is refused: ${err.message}.`);
      throw problem.badRequest(`The body is not valid JSON: ${jsonProblem(text, err as Error)}`);
    }
    return next();
  };
}

/** The parser's reason with its line and column (V8 names only the offset in some versions). */
export function jsonProblem(text: string, err: Error): string {
  const reason = err.message
    .replace(/\s*\(line \d+ column \d+\)$/, '')
    .replace(/ in JSON at position \d+$/, '');
  const at = /position (\d+)/.exec(err.message);
  const offset = at ? Number(at[1]) : text.length;
  const before = text.slice(0, offset).split('\n');
  return `${reason} at line ${before.length}, column ${before.at(-1)!.length + 1}.`;
}

function hasBody(ctx: ApiContext): boolean {
  const length = ctx.get('content-length');
  if (ctx.get('transfer-encoding') !== '') return true;
  return length !== '' && length !== '0';
}

function checkContentType(ctx: ApiContext): void {
  const header = ctx.get('content-type');
  const [type = '', ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  if (!JSON_TYPE.test(type)) {
    throw problem.unsupportedMediaType(
      header === ''
        ? 'The body needs Content-Type: application/json.'
        : `Expected application/json, got ${type}.`,
    );
  }
  const charset = parameters
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw problem.unsupportedMediaType(`JSON bodies must be UTF-8, got charset=${charset}.`);
  }
}

async function readText(ctx: ApiContext, limitBytes: number): Promise<string> {
  const length = ctx.get('content-length');
  try {
    return await getRawBody(ctx.req, {
      limit: limitBytes,
      encoding: 'utf-8',
      ...(length === '' ? {} : { length }),
    });
  } catch (err) {
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') throw problem.tooLarge(`The body is larger than ${limitBytes} bytes.`);
    if (type === 'request.size.invalid')
      throw problem.badRequest('The body is shorter or longer than Content-Length.');
    if (type === 'request.aborted')
      throw problem.badRequest('The request was aborted while its body was read.');
    throw err;
  }
}
