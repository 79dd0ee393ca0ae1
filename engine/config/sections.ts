/** Parsers of the configuration's sections: auth, webhooks, OAuth, outbound calls, platform keys. */
import { KeyringError, parseKeyring } from '../crypto/keyring.ts';
import { parseAllowlist } from '../hub/ssrf.ts';
import { ConfigError } from './error.ts';
import {
  type Env,
  nonEmpty,
  parseDurationVar,
  parseHttpUrl,
  parseInteger,
  parseJwksUrl,
  parseSecret,
} from './parse.ts';
import type { AuthConfig, OAuthConfig, OutboundAllowlist, WebhookConfig } from './types.ts';
import { CONNECTOR_PREFIX, DECLARED_NAMES } from './variables.ts';

/** HS256 keys shorter than the hash output are guessable (RFC 7518 section 3.2). */
const MIN_JWT_SECRET = 32;

export function parseAuth(env: Env): AuthConfig {
  return {
    jwtSecret: parseSecret(env, 'ATLAS_JWT_SECRET', MIN_JWT_SECRET),
    jwksUrl: parseJwksUrl(env),
    issuer: nonEmpty(env, 'ATLAS_JWT_ISSUER'),
    audience: nonEmpty(env, 'ATLAS_JWT_AUDIENCE'),
  };
}

/** ATLAS_OUTBOUND_ALLOWLIST, or its former name ATLAS_WEBHOOK_ALLOWLIST when it alone is set. */
export function parseOutboundAllowlist(env: Env): OutboundAllowlist {
  const current = nonEmpty(env, 'ATLAS_OUTBOUND_ALLOWLIST');
  const legacy = current === undefined ? nonEmpty(env, 'ATLAS_WEBHOOK_ALLOWLIST') : undefined;
  const name = legacy === undefined ? 'ATLAS_OUTBOUND_ALLOWLIST' : 'ATLAS_WEBHOOK_ALLOWLIST';
  const value = current ?? legacy ?? '';
  try {
    parseAllowlist(value);
  } catch (err) {
    throw new ConfigError(
      name,
      `must list host names, addresses and CIDRs separated by commas: ${(err as Error).message}`,
    );
  }
  return legacy === undefined ? { value } : { value, deprecatedVariable: 'ATLAS_WEBHOOK_ALLOWLIST' };
}

/**
 * Each provider's secret has a known shape; a value that cannot be one is a paste error
 * caught at start, not a stream of 401s. Stripe: `whsec_...`; Telegram's platform secret (each
 * tenant's secret_token is derived from it): 16-256 of A-Z a-z 0-9 _ -; Teams' security token:
 * base64 of 16+ bytes (whitespace separates rotated secrets).
 */
const WEBHOOK_SECRETS: Record<string, { shape: RegExp; expected: string }> = {
  STRIPE_WEBHOOK_SECRET: {
    shape: /^(whsec_\S+)(\s+whsec_\S+)*$/,
    expected: 'a Stripe signing secret (whsec_...)',
  },
  TELEGRAM_WEBHOOK_SECRET: {
    shape: /^([A-Za-z0-9_-]{16,256})(\s+[A-Za-z0-9_-]{16,256})*$/,
    expected: "16-256 characters of A-Z, a-z, 0-9, _ and - (each tenant's secret_token is derived from it)",
  },
  TEAMS_WEBHOOK_SECRET: {
    // 22 base64 characters hold 16 bytes: a shorter token is a key anyone could guess.
    shape: /^([A-Za-z0-9+/]{22,}={0,2})(\s+[A-Za-z0-9+/]{22,}={0,2})*$/,
    expected: 'the base64 security token Teams showed (16 bytes or more)',
  },
};

const MAX_WEBHOOK_TOLERANCE_MS = 3_600_000;

export function parseAnchorSecret(env: Env): string | undefined {
  const raw = nonEmpty(env, 'ATLAS_AUDIT_ANCHOR_SECRET');
  if (raw !== undefined && !/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/.test(raw)) {
    throw new ConfigError(
      'ATLAS_AUDIT_ANCHOR_SECRET',
      'must be a Standard Webhooks secret (whsec_ and base64)',
    );
  }
  return raw;
}

export function parseWebhooks(env: Env): WebhookConfig {
  const secrets: Record<string, string> = {};
  for (const [name, { shape, expected }] of Object.entries(WEBHOOK_SECRETS)) {
    const raw = nonEmpty(env, name);
    if (raw === undefined) continue;
    if (!shape.test(raw)) throw new ConfigError(name, `must be ${expected}`);
    secrets[name] = raw;
  }
  const toleranceMs = parseDurationVar(env, 'ATLAS_WEBHOOK_TOLERANCE', 300_000);
  if (toleranceMs < 1000 || toleranceMs > MAX_WEBHOOK_TOLERANCE_MS) {
    throw new ConfigError(
      'ATLAS_WEBHOOK_TOLERANCE',
      `must be from 1s to 1h (got "${env.ATLAS_WEBHOOK_TOLERANCE}")`,
    );
  }
  const rejectLimit = parseInteger(env, 'ATLAS_WEBHOOK_REJECT_LIMIT', 100, 1, 1_000_000);
  return { secrets: Object.freeze(secrets), toleranceMs, rejectLimit };
}

/**
 * The public base URL is what providers redirect browsers to, so it must be the address users
 * reach (behind a proxy: the proxy's). Redirect URIs carry authorization codes: HTTPS, except
 * on loopback (RFC 9700 section 2.6, and every provider refuses plain HTTP elsewhere).
 */
export function parseOAuth(env: Env, host: string, port: number): OAuthConfig {
  const fallbackHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const publicUrl = parseHttpUrl(env, 'ATLAS_PUBLIC_URL', true) ?? `http://${fallbackHost}:${port}`;
  return {
    publicUrl: publicUrl.replace(/\/+$/, ''),
    successUrl: parseHttpUrl(env, 'ATLAS_OAUTH_SUCCESS_URL', false),
    errorUrl: parseHttpUrl(env, 'ATLAS_OAUTH_ERROR_URL', false),
  };
}

/** Connectors with platform credentials an operator may offer to tenants. Stripe is never one. */
export const PLATFORM_CONNECTORS = ['msgraph', 'email', 'telegram', 'openai', 'agent'] as const;

export function parsePlatformCredentials(env: Env): ReadonlySet<string> {
  const raw = nonEmpty(env, 'ATLAS_PLATFORM_CREDENTIALS');
  if (raw === undefined) return new Set();
  const ids = raw
    .split(',')
    .map((id) => id.trim().toLowerCase())
    .filter(Boolean);
  for (const id of ids) {
    if (id === 'stripe')
      throw new ConfigError(
        'ATLAS_PLATFORM_CREDENTIALS',
        'cannot list stripe: the platform Stripe account is never offered to tenants, each uses its own STRIPE_SECRET_KEY secret',
      );
    if (!(PLATFORM_CONNECTORS as readonly string[]).includes(id))
      throw new ConfigError(
        'ATLAS_PLATFORM_CREDENTIALS',
        `must list connectors among ${PLATFORM_CONNECTORS.join(', ')} (got "${id}")`,
      );
  }
  return new Set(ids);
}

/** ATLAS_ENCRYPTION_KEY, checked at start; the error never repeats key material. */
export function parseEncryptionKey(env: Env): string | undefined {
  const raw = nonEmpty(env, 'ATLAS_ENCRYPTION_KEY');
  if (raw === undefined) return undefined;
  try {
    parseKeyring(raw);
  } catch (err) {
    if (err instanceof KeyringError)
      throw new ConfigError('ATLAS_ENCRYPTION_KEY', err.message.replace(/^.*?(must|holds|appears)/, '$1'));
    throw err;
  }
  return raw;
}

/**
 * `ATLAS_CONNECTOR_<ID>_<KEY>`: connector settings, by full name. A base URL must be an
 * http(s) URL: a typo would otherwise surface as failing steps.
 */
export function parseConnectorVariables(env: Env): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(CONNECTOR_PREFIX)) continue;
    const value = nonEmpty(env, name);
    if (value === undefined) continue;
    if (name.endsWith('_BASE_URL') || name.endsWith('_LOGIN_URL')) {
      let url: URL | undefined;
      try {
        url = new URL(value);
      } catch {
        url = undefined;
      }
      if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
        throw new ConfigError(name, `must be an http:// or https:// URL (got "${value}")`);
    }
    out[name] = value;
  }
  return Object.freeze(out);
}

/**
 * The variables named elsewhere than here: platform keys connectors declare, OAuth client
 * credentials provider manifests name, webhook routes' platform secrets. Declared variables
 * and connector settings are not among them: they are read above, typed.
 */
export function namedVariables(env: Env): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || DECLARED_NAMES.has(name) || name.startsWith(CONNECTOR_PREFIX)) continue;
    out[name] = value;
  }
  return Object.freeze(out);
}
