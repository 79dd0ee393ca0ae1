/**
 * Redirects as `ctx.http` follows them itself (engine/hub/http.ts checks and pins each hop):
 * the next hop's method, body and headers, as fetch would make them.
 */

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers a redirect to another origin must not carry. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

/** What a hop carries that a redirect changes. */
interface Hop {
  method: string;
  url: URL;
  headers: Headers;
  /** More headers that carry credentials (a request's `auth`). */
  credentialHeaders?: readonly string[];
  requestBody?: unknown;
  init: RequestInit & { duplex?: 'half' };
}

/**
 * The next hop of a redirect, as fetch would make it: 303 (and 301/302 after a POST) become a
 * GET without a body; 307/308 repeat the method and body (not a streamed one: the 3xx is then
 * the answer). Credentials stay behind when the origin changes.
 */
export function redirectTarget<T extends Hop>(hop: T, response: Response): T | undefined {
  const location = response.headers.get('location');
  if (!REDIRECTS.has(response.status) || location === null) return undefined;
  let url: URL;
  try {
    url = new URL(location, hop.url);
  } catch {
    return undefined;
  }
  const headers = new Headers(hop.headers);
  if (url.origin !== hop.url.origin)
    for (const name of [...CREDENTIAL_HEADERS, ...(hop.credentialHeaders ?? [])]) headers.delete(name);
  const toGet =
    response.status === 303
      ? hop.method !== 'HEAD'
      : hop.method === 'POST' && response.status !== 307 && response.status !== 308;
  if (toGet) {
    for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language'])
      headers.delete(name);
    return {
      ...hop,
      url,
      headers,
      method: 'GET',
      requestBody: undefined,
      init: { ...hop.init, body: undefined },
    };
  }
  if (isStreamBody(hop.init.body)) return undefined;
  return { ...hop, url, headers };
}

/**
 * Streamed bodies (gaxios' multipart upload hands fetch a Node stream) need `duplex: 'half'`
 * in Node's fetch; buffered bodies must not have it.
 */
export function isStreamBody(body: unknown): boolean {
  if (body === null || body === undefined || typeof body === 'string') return false;
  if (body instanceof Uint8Array || body instanceof ArrayBuffer || body instanceof URLSearchParams)
    return false;
  if (body instanceof FormData || body instanceof Blob) return false;
  return body instanceof ReadableStream || Symbol.asyncIterator in (body as object);
}
