/**
 * The signing secret of a route for a tenant: the tenant's own (encrypted secrets store, under
 * the name the route's `verify.secret` gives), else the platform's from the environment.
 * Lookups are cached briefly so a burst of deliveries does not decrypt the same secret on
 * every request; a rotated secret is picked up within the TTL, which provider-side rotation
 * (Stripe signs with the old and the new secret for a while) comfortably covers.
 */
import type { SecretStore } from '../runtime/deps.ts';
import type { CompiledWebhookRoute } from './routes.ts';

/** The platform variable each provider's secret falls back to (README, configuration). */
export const PLATFORM_SECRET_VARIABLE: Readonly<Record<string, string>> = {
  'stripe-signature': 'STRIPE_WEBHOOK_SECRET',
  'telegram-secret-token': 'TELEGRAM_WEBHOOK_SECRET',
  'teams-hmac': 'TEAMS_WEBHOOK_SECRET',
};

export interface SecretResolver {
  /** Undefined when neither the tenant nor the platform has one. */
  resolve(tenantId: string, route: CompiledWebhookRoute): Promise<string | undefined>;
}

export interface SecretResolverOptions {
  store: SecretStore;
  /** Platform secrets by variable name (validated by the configuration). */
  platform: Readonly<Record<string, string | undefined>>;
  ttlMs?: number;
  maxEntries?: number;
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
      if (own !== undefined && own.trim() !== '') return own;
      const variable = PLATFORM_SECRET_VARIABLE[route.verify.method];
      return opts.platform[route.verify.secret] ?? (variable ? opts.platform[variable] : undefined);
    },
  };
}
