/**
 * tenantPlugin: a tenant route acts for one tenant, named by the `x-tenant-id` header or the
 * `tenantId` query parameter, which the token's `tenants` claim must grant (400 when
 * missing, 403 when not granted or the tenant is disabled), within the tenant's request rate
 * (429 with `Retry-After`). A platform route needs the `admin` role.
 */
import type { Next } from 'koa';
import { problem } from '../../problem.ts';
import type { TenantRequestRate } from '../../tenants/request-rate.ts';
import { TENANT_ID, type TenantStatusCache } from '../../tenants/status.ts';
import type { ApiContext } from '../context.ts';
import { TENANT_QUERY } from '../router.ts';

export const TENANT_HEADER = 'x-tenant-id';

/** The request rate: its counters and the default per tenant (`ATLAS_TENANT_REQUEST_RATE`, 0: none). */
export interface RateGate {
  rate: TenantRequestRate;
  perSecond: number;
}

export function tenantPlugin(tenants: TenantStatusCache, gate: RateGate) {
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
    const perSecond = (await tenants.requestRate(tenantId)) ?? gate.perSecond;
    const waitMs = await gate.rate.take(tenantId, perSecond);
    if (waitMs > 0) {
      throw problem.tooManyRequests(
        `Tenant "${tenantId}" is over its ${perSecond} requests per second; try again after Retry-After.`,
        waitMs,
      );
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
