/**
 * The transport under every token, exchange and revocation request: a timeout, and the
 * providers' departures from RFC 6749 turned back into the standard before `oauth4webapi`
 * reads the answer (it is strict, rightly, and would reject these answers outright):
 *
 * - TikTok names the client id `client_key` in the form
 *   (https://developers.tiktok.com/doc/oauth-user-access-token-management) and answers some
 *   errors with HTTP 200 and `{ error, error_description, log_id }`.
 * - Meta answers errors as `{ error: { message, type, code } }`; code 190 is an invalid or
 *   expired token (https://developers.facebook.com/docs/graph-api/guides/error-handling).
 * - LinkedIn leaves `token_type` out of its token answers
 *   (https://learn.microsoft.com/linkedin/shared/authentication/authorization-code-flow).
 * - OpenID providers add an `id_token` whose issuer the manifest does not name (Microsoft's
 *   multi-tenant issuer even varies per user). Atlas uses it only to show which account was
 *   connected, never to decide access, so it is read here and removed; the `state` bound to
 *   one provider's own redirect URI is the defence against mix-up (RFC 9700 section 4.4.2).
 */
import type { CustomFetchOptions } from 'oauth4webapi';
import { checkJsonLimits } from '../json/limits.ts';

/** Where a token answer's account (email, login, `open_id`) is passed on to the flow. */
export const ACCOUNT_FIELD = 'x_atlas_account';

export interface QuirkOptions {
  /** The form field that carries the client id (`client_key` for TikTok). */
  clientIdParam: string;
  timeoutMs: number;
  fetchImpl?: typeof fetch;
  /** Called once per request that reaches the provider (tests count them). */
  onRequest?: (url: string) => void;
}

type Fetcher = (url: string, options: CustomFetchOptions<string, unknown>) => Promise<Response>;

export function quirkFetch(opts: QuirkOptions): Fetcher {
  const doFetch = opts.fetchImpl ?? fetch;
  return async (url, options) => {
    const body = options.body;
    if (body instanceof URLSearchParams && opts.clientIdParam !== 'client_id' && body.has('client_id')) {
      body.set(opts.clientIdParam, body.get('client_id') ?? '');
      body.delete('client_id');
    }
    const timeout = AbortSignal.timeout(opts.timeoutMs);
    opts.onRequest?.(url);
    const res = await doFetch(url, {
      method: options.method,
      headers: options.headers,
      redirect: 'manual',
      signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
      ...(body === undefined ? {} : { body: body as RequestInit['body'] }),
    });
    return normalizeAnswer(res);
  };
}

async function normalizeAnswer(res: Response): Promise<Response> {
  if (!(res.headers.get('content-type') ?? '').includes('json')) return res;
  const text = await res.text();
  if (text === '') return new Response(null, { status: res.status, headers: res.headers });
  // Nested past the parse limit, the answer is refused (JsonLimitError): rewriting it would
  // overflow the stack.
  checkJsonLimits(text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return new Response(text, { status: res.status, headers: res.headers });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return jsonResponse(json, res.status);
  const { body, status } = normalizeBody(json as Record<string, unknown>, res.status);
  return jsonResponse(body, status);
}

function normalizeBody(
  body: Record<string, unknown>,
  status: number,
): { body: Record<string, unknown>; status: number } {
  const error = body['error'];
  if (error !== null && typeof error === 'object')
    return {
      body: metaError(error as Record<string, unknown>, status),
      status: status === 200 ? 400 : status,
    };
  if (typeof error === 'string') return { body, status: status === 200 ? 400 : status };
  if (typeof body['access_token'] !== 'string') return { body, status };
  const out: Record<string, unknown> = { ...body };
  out['token_type'] ??= 'bearer';
  const account = accountOf(out);
  delete out['id_token'];
  if (account !== undefined) out[ACCOUNT_FIELD] = account;
  return { body: out, status };
}

function metaError(error: Record<string, unknown>, status: number): Record<string, unknown> {
  const message = typeof error['message'] === 'string' ? error['message'] : 'error';
  const code = error['code'];
  const oauthError = code === 190 ? 'invalid_grant' : status >= 500 ? 'server_error' : 'invalid_request';
  return { error: oauthError, error_description: `${message} (code ${String(code)})` };
}

/** The account as the provider names it: OpenID claims, TikTok's `open_id`, X's and Meta's nothing. */
function accountOf(body: Record<string, unknown>): string | undefined {
  const claims = typeof body['id_token'] === 'string' ? idTokenClaims(body['id_token']) : {};
  for (const value of [claims['email'], claims['preferred_username'], claims['sub'], body['open_id']]) {
    if (typeof value === 'string' && value !== '') return value.slice(0, 320);
  }
  return undefined;
}

/** The claims of a JWT's payload, unverified (display only, see the module comment). */
function idTokenClaims(jwt: string): Record<string, unknown> {
  try {
    const payload: unknown = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return payload !== null && typeof payload === 'object' ? (payload as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function jsonResponse(body: unknown, status: number): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}
