/**
 * Tenant ids and whether a tenant may be served, below the API (http/) and inbound webhooks
 * (webhooks/), which both refuse a disabled tenant.
 */
import type { Knex } from 'knex';
import { readTenantAccess } from '../db/tenants.ts';

export const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Whether a tenant may be served, cached briefly: one lookup per tenant every few seconds
 * instead of one per request. A tenant disabled on another process is refused within the TTL.
 */
export interface TenantStatusCache {
  isActive(tenantId: string): Promise<boolean>;
  /** The tenant's own API request rate from its settings, read with its status; null: none set. */
  requestRate(tenantId: string): Promise<number | null>;
  forget(tenantId: string): void;
}

export function makeTenantStatusCache(db: Knex, ttlMs = 5000): TenantStatusCache {
  const entries = new Map<string, { active: boolean; rate: number | null; until: number }>();
  const read = async (tenantId: string) => {
    const now = Date.now();
    const hit = entries.get(tenantId);
    if (hit && hit.until > now) return hit;
    const access = await readTenantAccess(db, tenantId);
    if (entries.size > 10_000) entries.clear();
    const entry = { active: access.active, rate: access.requestsPerSecond, until: now + ttlMs };
    entries.set(tenantId, entry);
    return entry;
  };
  return {
    isActive: async (tenantId) => (await read(tenantId)).active,
    requestRate: async (tenantId) => (await read(tenantId)).rate,
    forget: (tenantId) => entries.delete(tenantId),
  };
}
