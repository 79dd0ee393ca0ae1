/**
 * Tenant ids and whether a tenant may be served, below the API (http/) and inbound webhooks
 * (webhooks/), which both refuse a disabled tenant.
 */
import type { Knex } from 'knex';
import { isTenantActive } from '../db/tenants.ts';

export const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Whether a tenant may be served, cached briefly: one lookup per tenant every few seconds
 * instead of one per request. A tenant disabled on another process is refused within the TTL.
 */
export interface TenantStatusCache {
  isActive(tenantId: string): Promise<boolean>;
  forget(tenantId: string): void;
}

export function makeTenantStatusCache(db: Knex, ttlMs = 5000): TenantStatusCache {
  const entries = new Map<string, { active: boolean; until: number }>();
  return {
    async isActive(tenantId) {
      const now = Date.now();
      const hit = entries.get(tenantId);
      if (hit && hit.until > now) return hit.active;
      const active = await isTenantActive(db, tenantId);
      if (entries.size > 10_000) entries.clear();
      entries.set(tenantId, { active, until: now + ttlMs });
      return active;
    },
    forget: (tenantId) => entries.delete(tenantId),
  };
}
