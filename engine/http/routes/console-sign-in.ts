import { isIP } from 'node:net';
import { mintToken } from '../../auth/mint.ts';
import { type AuthConfig, type Config, isLoopbackHost } from '../../config.ts';
import { activeTenantIds, getTenant } from '../../db/tenants.ts';
import { problem } from '../../problem.ts';
import { TENANT_ID } from '../../tenants/status.ts';
import type { ApiContext } from '../context.ts';
import { defineRoute } from '../route.ts';
import { TENANT_ID_PATTERN } from '../schemas.ts';
import type { RouteDeps } from './deps.ts';

/** How long a development sign-in token lives. */
export const DEV_TOKEN_TTL_S = 8 * 3600;

/**
 * The development sign-in is offered only when Atlas listens on loopback and signs tokens
 * with the development secret it made itself (no ATLAS_JWT_SECRET, no JWKS).
 */
export function devSignInOption(
  config: Pick<Config, 'host'>,
  auth: Pick<AuthConfig, 'jwtSecret' | 'jwksUrl'>,
  devSecretFile: string | undefined,
): { devSignIn?: { secret: string } } {
  if (devSecretFile === undefined || auth.jwtSecret === undefined || auth.jwksUrl !== undefined) return {};
  return isLoopbackHost(config.host) ? { devSignIn: { secret: auth.jwtSecret } } : {};
}

/** Why the development sign-in is refused for this request, or undefined when it is offered. */
function devSignInRefusal(ctx: ApiContext, enabled: boolean): string | undefined {
  if (!enabled) {
    return 'The development sign-in is offered only when Atlas listens on loopback with its development secret (no ATLAS_JWT_SECRET, no ATLAS_JWKS_URL); paste an API token instead.';
  }
  const forwarded = Object.keys(ctx.headers).some((h) => h.startsWith('x-forwarded-') || h === 'forwarded');
  if (forwarded) return 'The development sign-in is not offered through a proxy; paste an API token instead.';
  if (!isLoopbackAddress(ctx.req.socket.remoteAddress)) {
    return 'The development sign-in is offered only to this machine; paste an API token instead.';
  }
  return undefined;
}

function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const bare = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

export function signInInfoRoute({ db, devSignIn }: RouteDeps) {
  return defineRoute({
    method: 'GET',
    path: '/v1/dev/sign-in',
    operationId: 'getDevSignIn',
    summary: 'Whether the development sign-in is offered, and for which tenants',
    tag: 'console',
    scope: 'public',
    responses: {
      200: {
        description: 'Offered (with the active tenants) or not (with the reason).',
        schema: {
          type: 'object',
          required: ['available'],
          properties: {
            available: { type: 'boolean' },
            tenants: { type: 'array', items: { type: 'string' } },
            reason: { type: 'string' },
          },
        },
      },
    },
    async handler(ctx) {
      ctx.set('cache-control', 'no-store');
      const reason = devSignInRefusal(ctx, devSignIn !== undefined);
      if (reason) {
        ctx.body = { available: false, reason };
        return;
      }
      ctx.body = { available: true, tenants: await activeTenantIds(db, 200) };
    },
  });
}

export function signInRoute({ db, devSignIn }: RouteDeps) {
  return defineRoute<Record<string, string>, Record<string, never>, { tenant: string }>({
    method: 'POST',
    path: '/v1/dev/sign-in',
    operationId: 'devSignIn',
    summary: 'Development sign-in: a token for one tenant, on loopback with the development secret only',
    tag: 'console',
    scope: 'public',
    body: {
      type: 'object',
      required: ['tenant'],
      additionalProperties: false,
      properties: { tenant: { type: 'string', pattern: TENANT_ID_PATTERN } },
    },
    errors: [403],
    responses: {
      201: {
        description: 'A token granting the tenant.',
        schema: {
          type: 'object',
          required: ['token', 'tenants', 'expiresAt'],
          properties: {
            token: { type: 'string' },
            tenants: { type: 'array', items: { type: 'string' } },
            expiresAt: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
    async handler(ctx, { body }) {
      ctx.set('cache-control', 'no-store');
      const reason = devSignInRefusal(ctx, devSignIn !== undefined);
      if (reason !== undefined || !devSignIn) throw problem.forbidden(reason ?? 'Not offered.');
      if (!TENANT_ID.test(body.tenant)) throw problem.unprocessable(`"${body.tenant}" is not a tenant id.`);
      const tenant = await getTenant(db, body.tenant);
      if (tenant?.status !== 'active') {
        throw problem.forbidden(`Tenant "${body.tenant}" does not exist or is disabled.`);
      }
      const token = await mintToken({
        secret: devSignIn.secret,
        sub: 'developer',
        tenants: [body.tenant],
        ttlSeconds: DEV_TOKEN_TTL_S,
      });
      ctx.status = 201;
      ctx.body = {
        token,
        tenants: [body.tenant],
        expiresAt: new Date(Date.now() + DEV_TOKEN_TTL_S * 1000).toISOString(),
      };
    },
  });
}
