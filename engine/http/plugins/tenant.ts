/**
 * tenantPlugin: a tenant route acts for one tenant, named by the `x-tenant-id` header or the
 * `tenantId` query parameter, which the token's `tenants` claim must grant (400 when
 * missing, 403 when not granted or the tenant is disabled). A platform route needs the
 * `admin` role.
 */
import type { Knex } from 'knex';
import type { Next } from 'koa';
import type { ApiContext } from '../context.ts';
import { problem } from '../problem.ts';
import { TENANT_QUERY } from '../router.ts';

export const TENANT_HEADER = 'x-tenant-id';
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
      const row = await db('tenants').where({ id: tenantId }).first('status');
      const active = row?.status === 'active';
      if (entries.size > 10_000) entries.clear();
      entries.set(tenantId, { active, until: now + ttlMs });
      return active;
    },
    forget: (tenantId) => entries.delete(tenantId),
  };
}

export function tenantPlugin(tenants: TenantStatusCache) {
  return async (ctx: ApiContext, next: Next) => {
    const spec = ctx.state.route?.spec;
    if (!spec || spec.scope === 'public') return next();
    const principal = ctx.state.principal;
    if (!principal) throw new Error('tenantPlugin runs after authPlugin');
    if (spec.scope === 'platform') {
      if (!principal.admin) throw problem.forbidden('This route needs a token with the admin role.');
      return next();
    }
    const tenantId = requestedTenant(ctx);
    if (!principal.tenants.includes(tenantId)) {
      throw problem.forbidden(`The token does not grant tenant "${tenantId}".`);
    }
    if (!(await tenants.isActive(tenantId))) {
      throw problem.forbidden(`Tenant "${tenantId}" does not exist or is disabled.`);
    }
    ctx.state.tenantId = tenantId;
    return next();
  };
}

function requestedTenant(ctx: ApiContext): string {
  const header = ctx.get(TENANT_HEADER);
  const query = ctx.query[TENANT_QUERY];
  if (Array.isArray(query))
    throw problem.badRequest(`The query parameter "${TENANT_QUERY}" is given more than once.`);
  if (header !== '' && query !== undefined && header !== query) {
    throw problem.badRequest(`The ${TENANT_HEADER} header and the ${TENANT_QUERY} query parameter disagree.`);
  }
  const tenantId = header !== '' ? header : query;
  if (tenantId === undefined || tenantId === '') {
    throw problem.badRequest(
      `Name the tenant with the ${TENANT_HEADER} header or the ${TENANT_QUERY} query parameter.`,
    );
  }
  if (!TENANT_ID.test(tenantId)) throw problem.badRequest(`"${tenantId.slice(0, 64)}" is not a tenant id.`);
  return tenantId;
}
