/**
 * Shared plumbing for the social networks: base URLs (each configurable), the tenant's OAuth
 * token per network, and one error mapper that tells the networks' error bodies apart.
 */

import type { ActionContext, ConnectorErrorInit } from 'atlas-engine/sdk';
import { ConnectorError, isRecord } from 'atlas-engine/sdk';

export const NETWORKS = ['x', 'linkedin', 'facebook', 'instagram', 'tiktok'] as const;
export type Network = (typeof NETWORKS)[number];

const DEFAULTS: Record<Network, string> = {
  x: 'https://api.x.com',
  linkedin: 'https://api.linkedin.com',
  facebook: 'https://graph.facebook.com/v21.0',
  instagram: 'https://graph.facebook.com/v21.0',
  tiktok: 'https://open.tiktokapis.com',
};

/** The OAuthProvider manifest each network's token comes from (Meta serves Facebook and Instagram). */
const OAUTH_PROVIDER: Record<Network, string> = {
  x: 'x',
  linkedin: 'linkedin',
  facebook: 'meta',
  instagram: 'meta',
  tiktok: 'tiktok',
};

export const baseSetting = (network: Network) => `ATLAS_CONNECTOR_SOCIAL_${network.toUpperCase()}_BASE_URL`;
export const LINKEDIN_VERSION = 'ATLAS_CONNECTOR_SOCIAL_LINKEDIN_VERSION';

export function baseUrl(ctx: ActionContext, network: Network): string {
  return (ctx.config.settings[baseSetting(network)] ?? DEFAULTS[network]).replace(/\/+$/, '');
}

export function userToken(ctx: ActionContext, network: Network): Promise<string> {
  return ctx.accessToken(OAUTH_PROVIDER[network]);
}

export function requireField<T>(value: T | undefined, name: string, network: Network): T {
  if (value === undefined || value === '')
    throw ConnectorError.fatal('invalid_input', `social: ${network} needs "${name}"`);
  return value;
}

/** Meta error codes that mean throttling (https://developers.facebook.com/docs/graph-api/overview/rate-limiting). */
const META_THROTTLE = new Set([4, 17, 32, 613, 80001, 80002]);

/**
 * - Meta: `{ error: { message, type, code, error_subcode, fbtrace_id } }`; code 190 is an
 *   invalid or expired token whatever the HTTP status, throttling codes come as 400/403.
 * - TikTok: `{ error: { code, message, log_id } }` with `access_token_invalid`,
 *   `rate_limit_exceeded`, `spam_risk_*`.
 * - X: problem details `{ title, detail, type }`; 429 carries `x-rate-limit-reset` (epoch
 *   seconds), not `Retry-After`.
 * - LinkedIn: `{ status, serviceErrorCode, code, message }`.
 */
export function mapSocialError(
  status: number,
  body: unknown,
  headers: Headers,
): Partial<ConnectorErrorInit> | undefined {
  const reset = Number(headers.get('x-rate-limit-reset'));
  if (status === 429 && Number.isFinite(reset) && reset > 0 && !headers.get('retry-after')) {
    return { retryAfterMs: Math.min(Math.max(0, reset * 1000 - Date.now()), 3_600_000) };
  }
  if (!isRecord(body) || !isRecord(body['error'])) return undefined;
  const error = body['error'];
  const code = error['code'];
  if (typeof code === 'number') {
    if (code === 190) return { kind: 'auth', code: 'token_invalid' };
    if (META_THROTTLE.has(code)) return { kind: 'retryable', code: 'rate_limited', retryAfterMs: 60_000 };
    return { code: `meta_${code}` };
  }
  if (typeof code === 'string') {
    if (code === 'access_token_invalid' || code === 'scope_not_authorized') return { kind: 'auth', code };
    if (code === 'rate_limit_exceeded') return { kind: 'retryable', code: 'rate_limited' };
    return { code };
  }
  return undefined;
}
