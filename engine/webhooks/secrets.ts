/**
 * The signing secret of a route for a tenant. The tenant's own (encrypted secrets store, under
 * the name the route's `verify.secret` gives) always wins. The platform's (from the
 * environment) must never let one tenant's deliveries be forged for another, so it is used by
 * the route's kind:
 *
 * - Where Atlas chooses the secret (Telegram's `secret_token`, Standard Webhooks keys), each
 *   tenant's is derived: an HMAC-SHA256 of the tenant id keyed by the platform secret, shown
 *   to the tenant for the provider's set-up (`GET /v1/webhook-routes`).
 * - Where the provider creates it (Stripe, Teams, plain HMAC), the platform secret verifies
 *   only a route that fixes the tenant (no `tenant.from`) or reads it from the signed body;
 *   on a route whose query or headers name the tenant, only the tenant's own secret does.
 *
 * Lookups are cached briefly so a burst of deliveries does not decrypt the same secret on
 * every request; a rotated secret is picked up within the TTL, which provider-side rotation
 * (Stripe signs with the old and the new secret for a while) comfortably covers.
 */
import { createHmac } from 'node:crypto';
import type { Config } from '../config.ts';
import type { SecretStore } from '../runtime/deps.ts';
import type { CompiledWebhookRoute } from './routes.ts';
import { secretsOf } from './verify.ts';

/** The platform variable each provider's secret falls back to (README, configuration). */
export const PLATFORM_SECRET_VARIABLE: Readonly<Record<string, string>> = {
  'stripe-signature': 'STRIPE_WEBHOOK_SECRET',
  'telegram-secret-token': 'TELEGRAM_WEBHOOK_SECRET',
  'teams-hmac': 'TEAMS_WEBHOOK_SECRET',
};

/** How a route may use the platform secret for a tenant without its own. */
export type PlatformUse = 'derived' | 'as-is' | 'never';

/** Where a tenant's secret for a route comes from. */
export type SecretSource = 'own' | 'derived' | 'platform';

export interface ResolvedSecret {
  value: string;
  source: SecretSource;
}

export function platformUse(route: CompiledWebhookRoute): PlatformUse {
  const method = route.verify.method;
  if (route.tenantFrom === undefined) return 'as-is';
  if (method === 'telegram-secret-token' || method === 'standard-webhooks') return 'derived';
  // A signature over the body binds a tenant named in it; a bare token binds nothing.
  return route.tenantFrom.source === 'body' ? 'as-is' : 'never';
}

/**
 * A tenant's secret derived from the platform's: HMAC-SHA256(platform secret, tenant id), as a
 * Telegram secret_token (base64url, 43 characters of A-Z a-z 0-9 _ -) or a Standard Webhooks
 * key (`whsec_` and the base64 of 32 bytes). Each of several platform secrets (rotation)
 * derives its own.
 */
export function deriveTenantSecret(route: CompiledWebhookRoute, platform: string, tenantId: string): string {
  return secretsOf(platform)
    .map((secret) => {
      const mac = createHmac('sha256', secret).update(tenantId).digest();
      return route.verify.method === 'standard-webhooks'
        ? `whsec_${mac.toString('base64')}`
        : mac.toString('base64url');
    })
    .join(' ');
}

export interface SecretResolver {
  /** Undefined when neither the tenant's own nor the platform's applies. */
  resolve(tenantId: string, route: CompiledWebhookRoute): Promise<ResolvedSecret | undefined>;
}

export interface SecretResolverOptions {
  store: SecretStore;
  /** Platform secrets by variable name (validated by the configuration). */
  platform: Readonly<Record<string, string | undefined>>;
  ttlMs?: number;
  maxEntries?: number;
}

/** The platform secret a route falls back to, if any. */
function platformSecretOf(
  platform: Readonly<Record<string, string | undefined>>,
  route: CompiledWebhookRoute,
): string | undefined {
  const variable = PLATFORM_SECRET_VARIABLE[route.verify.method];
  const value = platform[route.verify.secret] ?? (variable ? platform[variable] : undefined);
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** The secret that verifies a route for a tenant without its own, by the rules above. */
export function platformSecretFor(
  platform: Readonly<Record<string, string | undefined>>,
  route: CompiledWebhookRoute,
  tenantId: string,
): ResolvedSecret | undefined {
  const value = platformSecretOf(platform, route);
  if (value === undefined) return undefined;
  const use = platformUse(route);
  if (use === 'never') return undefined;
  if (use === 'derived') return { value: deriveTenantSecret(route, value, tenantId), source: 'derived' };
  return { value, source: 'platform' };
}

export function makeSecretResolver(opts: SecretResolverOptions): SecretResolver {
  const ttlMs = opts.ttlMs ?? 5000;
  const maxEntries = opts.maxEntries ?? 10_000;
  const cache = new Map<string, { value: Promise<string | undefined>; until: number }>();

  const tenantSecret = (tenantId: string, name: string): Promise<string | undefined> => {
    const key = `${tenantId}\u0000${name}`;
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.until > now) return hit.value;
    // The promise is cached, not the value: concurrent first deliveries share one lookup.
    const value = opts.store.get(tenantId, name);
    if (cache.size >= maxEntries) cache.clear();
    cache.set(key, { value, until: now + ttlMs });
    value.catch(() => cache.delete(key));
    return value;
  };

  return {
    async resolve(tenantId, route) {
      const own = await tenantSecret(tenantId, route.verify.secret);
      if (own !== undefined && own.trim() !== '') return { value: own, source: 'own' };
      return platformSecretFor(opts.platform, route, tenantId);
    },
  };
}

/**
 * Platform secrets: the validated provider variables (STRIPE_WEBHOOK_SECRET, ...) and, for
 * other routes, the environment variable named like the route's secret.
 */
export function platformSecrets(
  config: Config,
  routes: Iterable<CompiledWebhookRoute>,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const route of routes) {
    const name = route.verify.secret;
    if (!Object.values(PLATFORM_SECRET_VARIABLE).includes(name)) out[name] = config.env[name];
  }
  return { ...out, ...config.webhooks.secrets };
}
