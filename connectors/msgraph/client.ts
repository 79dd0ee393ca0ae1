/**
 * Microsoft Graph access for the platform app: a client-credentials token from Microsoft
 * identity (`POST {login}/{tenant}/oauth2/v2.0/token`, scope `https://graph.microsoft.com/.default`;
 * no refresh token, request again on expiry), cached until shortly before it expires.
 *
 * The cache is per process. Several workers each fetch their own token, which Microsoft
 * allows; a shared cache belongs in the encrypted token store (engine/oauth) once it lands,
 * keyed the same way as here.
 */
import { createHash } from 'node:crypto';
import type { ActionContext, ConnectorErrorInit } from 'atlas-engine/sdk';
import { ConnectorError, expectNumber, expectRecord, expectString, isRecord } from 'atlas-engine/sdk';

export const SETTINGS = {
  tenant: 'MS_TENANT_ID',
  clientId: 'MS_CLIENT_ID',
  clientSecret: 'MS_CLIENT_SECRET',
  loginUrl: 'ATLAS_CONNECTOR_MSGRAPH_LOGIN_URL',
  sender: 'MS_MAIL_SENDER',
  teamsWebhookHosts: 'ATLAS_CONNECTOR_MSGRAPH_TEAMS_WEBHOOK_HOSTS',
} as const;

const DEFAULT_LOGIN_URL = 'https://login.microsoftonline.com';
/** Renew this long before expiry, so a token never dies in the middle of a call. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

interface CachedToken {
  token: string;
  expiresAt: number;
}

const cache = new Map<string, Promise<CachedToken>>();

export interface AppCredentials {
  tenant: string;
  clientId: string;
  clientSecret: string;
  loginUrl: string;
}

/** The platform app's credentials, or undefined when Graph is not configured. */
export function appCredentials(ctx: ActionContext): AppCredentials | undefined {
  const s = ctx.config.settings;
  const tenant = s[SETTINGS.tenant];
  const clientId = s[SETTINGS.clientId];
  const clientSecret = s[SETTINGS.clientSecret];
  if (!tenant || !clientId || !clientSecret) return undefined;
  return { tenant, clientId, clientSecret, loginUrl: s[SETTINGS.loginUrl] ?? DEFAULT_LOGIN_URL };
}

export function requireCredentials(ctx: ActionContext): AppCredentials {
  const creds = appCredentials(ctx);
  if (!creds) {
    throw ConnectorError.fatal(
      'not_configured',
      `msgraph: set ${SETTINGS.tenant}, ${SETTINGS.clientId} and ${SETTINGS.clientSecret}`,
    );
  }
  return creds;
}

function cacheKey(creds: AppCredentials): string {
  const secret = createHash('sha256').update(creds.clientSecret).digest('hex').slice(0, 16);
  return `${creds.loginUrl}|${creds.tenant}|${creds.clientId}|${secret}`;
}

/** A Graph access token for the platform app, from the cache when still fresh. */
export async function appToken(ctx: ActionContext): Promise<string> {
  const creds = requireCredentials(ctx);
  const key = cacheKey(creds);
  const cached = cache.get(key);
  if (cached) {
    const entry = await cached.catch(() => undefined);
    if (entry && entry.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return entry.token;
    if (cache.get(key) === cached) cache.delete(key);
  }
  // One request in flight per credential: concurrent steps share it.
  const pending = requestToken(ctx, creds);
  cache.set(key, pending);
  pending.catch(() => cache.delete(key));
  return (await pending).token;
}

/** Drops the cached token (after Graph answered 401 to it). */
export function forgetAppToken(ctx: ActionContext): void {
  const creds = appCredentials(ctx);
  if (creds) cache.delete(cacheKey(creds));
}

async function requestToken(ctx: ActionContext, creds: AppCredentials): Promise<CachedToken> {
  const body = new URLSearchParams({
    client_id: creds.clientId,
    client_secret: creds.clientSecret,
    scope: 'https://graph.microsoft.com/.default',
    grant_type: 'client_credentials',
  });
  const url = `${creds.loginUrl.replace(/\/+$/, '')}/${encodeURIComponent(creds.tenant)}/oauth2/v2.0/token`;
  const res = await ctx.http.request({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
  });
  const answer = expectRecord(res.json(), 'microsoft token');
  const token = expectString(answer, 'access_token', 'microsoft token');
  const expiresIn = expectNumber(answer, 'expires_in', 'microsoft token');
  return { token, expiresAt: Date.now() + expiresIn * 1000 };
}

/**
 * Calls Graph with the platform app's token; on 401 the cached token is dropped so the
 * next attempt fetches a fresh one (a token revoked early, or a rotated client secret).
 */
export async function graphApp<T>(ctx: ActionContext, call: (token: string) => Promise<T>): Promise<T> {
  const token = await appToken(ctx);
  try {
    return await call(token);
  } catch (err) {
    if (err instanceof ConnectorError && err.kind === 'auth') forgetAppToken(ctx);
    throw err;
  }
}

const AUTH_ERRORS = new Set(['invalid_client', 'unauthorized_client', 'invalid_grant']);

/**
 * Two error shapes reach this mapper: Microsoft identity's OAuth errors
 * (`{ error: "invalid_client", error_description: "AADSTS7000215: ..." }`, answered with 400
 * or 401) and Graph's (`{ error: { code, message, innerError } }`). Throttling comes as 429
 * (and 503) with `Retry-After`, which the hub already honours.
 */
export function mapGraphError(status: number, body: unknown): Partial<ConnectorErrorInit> | undefined {
  if (!isRecord(body)) return undefined;
  const error = body['error'];
  if (typeof error === 'string') {
    const description =
      typeof body['error_description'] === 'string' ? body['error_description'].split('\r\n')[0] : '';
    return {
      ...(AUTH_ERRORS.has(error) ? { kind: 'auth' as const, code: error } : {}),
      message: `microsoft identity: ${error}${description ? `: ${description}` : ''}`,
    };
  }
  if (isRecord(error) && typeof error['code'] === 'string') {
    const message = typeof error['message'] === 'string' ? error['message'] : '';
    return { message: `msgraph: HTTP ${status}: ${error['code']}${message ? `: ${message}` : ''}` };
  }
  return undefined;
}
