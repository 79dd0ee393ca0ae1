/**
 * What the API's middleware leaves on `ctx.state` for the next one, in pipeline order:
 * request id, matched route, body, principal, tenant, audit.
 */
import type { Context } from 'koa';
import type { Principal } from '../auth/verify.ts';
import type { CompiledRoute } from './router.ts';

export interface AuditState {
  /** The entity the mutation touched, once the handler knows it. */
  entityId?: string;
  /** Extra input worth keeping beside the body (redacted on write). */
  summary?: Record<string, unknown>;
  /** Set when the handler wrote the audit row itself, in the transaction of its change. */
  recorded: boolean;
}

export interface ApiState {
  requestId: string;
  route?: CompiledRoute;
  /** Path parameters of the matched route. */
  params: Record<string, string>;
  /** The parsed JSON body; undefined when the request had none. */
  body?: unknown;
  principal?: Principal;
  /** The tenant this request acts for (tenant routes only). */
  tenantId?: string;
  audit?: AuditState;
}

export type ApiContext = Context & { state: ApiState };

/** The principal, which the auth plugin guarantees on every non-public route. */
export function principalOf(ctx: ApiContext): Principal {
  const principal = ctx.state.principal;
  if (!principal) throw new Error('no principal: the route runs before the auth plugin');
  return principal;
}

/** The tenant, which the tenant plugin guarantees on every tenant route. */
export function tenantOf(ctx: ApiContext): string {
  const tenantId = ctx.state.tenantId;
  if (tenantId === undefined) throw new Error('no tenant: the route is not a tenant route');
  return tenantId;
}
