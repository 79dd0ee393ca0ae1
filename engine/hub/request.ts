/** Request building and audit shaping helpers for the hub's HTTP client. */

import { truncateForAudit } from '../audit/entry.ts';
import { type Redactor, redactHeaders, redactPath, redactQuery } from '../audit/redact.ts';
import type { HttpRequest } from '../connector-sdk/index.ts';
import { parseJson } from '../json/limits.ts';

/**
 * Joins a relative URL to the base URL, keeping the base's path prefix
 * (`https://graph.microsoft.com/v1.0` + `/me` → `/v1.0/me`), and appends query values.
 */
export function buildUrl(baseUrl: string | undefined, url: string, query?: HttpRequest['query']): URL {
  let out: URL;
  if (/^https?:\/\//i.test(url)) out = new URL(url);
  else {
    if (!baseUrl) throw new TypeError(`relative URL "${url}" needs a connector base URL`);
    const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    // `./` keeps a first segment with a colon (Telegram's `/bot<id>:<token>/...`) from
    // being read as a URL scheme.
    out = new URL(`./${url.replace(/^\/+/, '')}`, base);
  }
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) out.searchParams.append(key, String(value));
  }
  return out;
}

/** Serialises `json` (with its content type) or passes a raw body through. */
export function buildBody(req: HttpRequest): { body: RequestInit['body']; headers: Headers } {
  const headers = new Headers(req.headers);
  if (req.json !== undefined && req.body !== undefined) {
    throw new TypeError('an HTTP request takes `json` or `body`, not both');
  }
  if (req.json !== undefined) {
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    if (!headers.has('accept')) headers.set('accept', 'application/json');
    return { body: JSON.stringify(req.json), headers };
  }
  return { body: req.body as RequestInit['body'], headers };
}

/** The redacted host, path, query and headers of a call, for its audit entry. */
export function auditTarget(url: URL, headers: Headers, redactor: Redactor) {
  const known = redactor.values();
  const query = redactQuery(url.searchParams, known);
  return {
    host: url.host,
    path: redactPath(url.pathname, known),
    ...(Object.keys(query).length === 0 ? {} : { query }),
    requestHeaders: redactHeaders(headers, known),
  };
}

/** A response body as it may appear in an audit entry: parsed if JSON, truncated. */
export function auditBody(bytes: Uint8Array): unknown {
  const text = new TextDecoder().decode(bytes);
  try {
    return parseJson(text);
  } catch {
    return truncateForAudit(text);
  }
}
