/**
 * What the OAuth routes share: the OAuth hub's dependencies, the integration schema, the
 * cookie that binds an authorization to its browser, and the mapping of OAuth failures to
 * problems and redirects.
 */
import { parseCookie, stringifySetCookie } from 'cookie';
import {
  type BrowserBinding,
  bindingCookieName,
  type CallbackFailure,
  type OAuthDeps,
  OAuthError,
} from '../../oauth/index.ts';
import { HttpProblem, problem } from '../../problem.ts';
import { loadKeyring } from '../../secrets/keys.ts';
import type { ApiContext } from '../context.ts';
import type { JsonSchema } from '../route.ts';
import type { RouteDeps } from './deps.ts';

export const integrationSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'provider', 'scopes', 'status', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    provider: { type: 'string', description: 'The OAuthProvider manifest id.' },
    account: {
      type: ['string', 'null'],
      description: 'Who connected, as the provider names them, when it does.',
    },
    scopes: { type: 'array', items: { type: 'string' } },
    status: { type: 'string', enum: ['connected', 'disconnected'] },
    statusReason: {
      type: ['string', 'null'],
      description: 'Why it is disconnected (`invalid_grant`, `expired`).',
    },
    expiresAt: {
      type: ['string', 'null'],
      format: 'date-time',
      description: 'When the current access token expires.',
    },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};

/**
 * The OAuth hub's dependencies for the routes, built on first use: the keyring is the
 * secrets store's (ATLAS_ENCRYPTION_KEY, or the development key in ATLAS_HOME).
 */
export function lazyOAuthDeps(deps: RouteDeps): () => Promise<OAuthDeps> {
  let built: Promise<OAuthDeps> | undefined;
  return () => {
    built ??= loadKeyring(deps.config, deps.log).then((keyring) => ({
      db: deps.db,
      log: deps.log,
      catalogue: deps.catalogue,
      keyring,
      env: deps.config.env,
      publicUrl: deps.config.oauth.publicUrl,
    }));
    return built;
  };
}

export const LINK_FAILURES: Record<'unknown' | 'expired' | 'tenant_disabled', CallbackFailure> = {
  unknown: {
    ok: false,
    status: 404,
    error: 'invalid_link',
    description: 'This connect link is unknown or was already used; ask for a new one.',
  },
  expired: {
    ok: false,
    status: 410,
    error: 'expired_link',
    description: 'This connect link has expired; ask for a new one.',
  },
  tenant_disabled: {
    ok: false,
    status: 403,
    error: 'tenant_disabled',
    description: 'The tenant this link was made for is disabled.',
  },
};

export function setBinding(ctx: ApiContext, binding: BrowserBinding): void {
  ctx.append(
    'set-cookie',
    stringifySetCookie(binding.name, binding.value, {
      maxAge: Math.max(1, Math.ceil((binding.expiresAt.getTime() - Date.now()) / 1000)),
      path: binding.path,
      httpOnly: true,
      sameSite: 'lax',
      secure: binding.secure,
    }),
  );
}

export function clearBinding(ctx: ApiContext, name: string, path: string): void {
  ctx.append(
    'set-cookie',
    stringifySetCookie(name, '', { maxAge: 0, path, httpOnly: true, sameSite: 'lax' }),
  );
}

/** The binding cookie the browser sent for this state, if any. */
export function bindingOf(
  ctx: ApiContext,
  state: string,
): { name: string; value: string | undefined } | undefined {
  const name = bindingCookieName(state);
  const header = ctx.get('cookie');
  if (header === '') return undefined;
  const value = parseCookie(header)[name];
  return value === undefined ? undefined : { name, value };
}

export function withQuery(base: string, values: Record<string, string>): string {
  const url = new URL(base);
  for (const [name, value] of Object.entries(values)) url.searchParams.set(name, value);
  return url.href;
}

export function callbackProblem(failure: CallbackFailure): HttpProblem {
  return new HttpProblem({
    status: failure.status,
    detail: failure.description,
    extra: { error: failure.error },
    ...(failure.status === 503 ? { headers: { 'retry-after': '5' } } : {}),
  });
}

/** OAuth failures before the provider is involved: unknown provider, missing app config. */
export function routeProblem(err: unknown): unknown {
  if (!(err instanceof OAuthError)) return err;
  if (err.code === 'unknown_provider') return problem.notFound(err.message);
  if (err.code === 'not_authorizable') return problem.conflict(err.message);
  // The platform's app for this provider is not configured (its client id variable is unset).
  return new HttpProblem({
    status: 503,
    detail: err.message,
    extra: { error: err.code },
  });
}
