/**
 * Connecting an account: `GET /v1/oauth/{provider}/authorize` (a tenant's user, with a token,
 * from the browser itself) answers with the provider's URL and binds the one-time state to
 * that browser with a cookie; `POST /v1/oauth/{provider}/connect-links` mints a single-use
 * link that does the same in the browser that opens it (`GET /v1/connect/{token}`, public).
 * The provider sends the browser back to `GET /v1/oauth/{provider}/callback` (public: the
 * browser carries no API token; the state and the cookie bind the answer to the tenant, the
 * user and the browser), which stores the tokens and sends the browser on to
 * ATLAS_OAUTH_SUCCESS_URL or ATLAS_OAUTH_ERROR_URL.
 */
import { parseCookie, stringifySetCookie } from 'cookie';
import {
  type AuthorizationStart,
  type BrowserBinding,
  bindingCookieName,
  type CallbackFailure,
  type ConnectLink,
  completeAuthorization,
  LINK_TTL_MS,
  MAX_LINK_TTL_MS,
  mintConnectLink,
  type OAuthDeps,
  OAuthError,
  type OpenedLink,
  openConnectLink,
  redirectUriFor,
  startAuthorization,
} from '../../oauth/index.ts';
import { HttpProblem, problem } from '../../problem.ts';
import { loadKeyring } from '../../secrets/keys.ts';
import { type ApiContext, principalOf, tenantOf } from '../context.ts';
import { auditedTransaction } from '../plugins/audit.ts';
import { type AnyRoute, defineRoute, type JsonSchema } from '../route.ts';
import type { RouteDeps } from './deps.ts';

const providerParams: JsonSchema = {
  type: 'object',
  required: ['provider'],
  additionalProperties: false,
  properties: { provider: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' } },
};

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

const authorizeQuery: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    redirect: {
      type: 'boolean',
      default: false,
      description: 'Answer 302 with the provider URL in `Location` instead of JSON.',
    },
  },
};

/** What providers put on the callback; Google adds `authuser`, `hd`, `prompt`, so more are allowed. */
const callbackQuery: JsonSchema = {
  type: 'object',
  additionalProperties: { type: 'string', maxLength: 4096 },
  properties: {
    code: { type: 'string', maxLength: 4096 },
    state: { type: 'string', maxLength: 512 },
    error: { type: 'string', maxLength: 200 },
    error_description: { type: 'string', maxLength: 2000 },
  },
};

export function oauthRoutes(deps: RouteDeps): AnyRoute[] {
  const oauth = lazyOAuthDeps(deps);
  const { successUrl, errorUrl, publicUrl } = deps.config.oauth;

  const authorize = defineRoute<{ provider: string }, { redirect: boolean }>({
    method: 'GET',
    path: '/v1/oauth/{provider}/authorize',
    operationId: 'authorizeIntegration',
    summary: "Start connecting the tenant's account at a provider",
    description:
      'Mints a one-time state (10 minutes, bound to the tenant and the caller) and a PKCE verifier, and answers with the provider URL. The answer sets an HttpOnly cookie that binds the state to the browser that made this request: only that browser can complete the callback. A client that is not the browser itself mints a connect link instead.',
    tag: 'integrations',
    scope: 'tenant',
    params: providerParams,
    query: authorizeQuery,
    errors: [404, 409, 503],
    responses: {
      200: {
        description: 'The provider URL.',
        schema: {
          type: 'object',
          required: ['url', 'expiresAt'],
          properties: {
            url: { type: 'string', format: 'uri' },
            expiresAt: { type: 'string', format: 'date-time' },
          },
        },
      },
      302: {
        description: 'Redirect to the provider (with `redirect=true`).',
        headers: { location: 'The provider URL.' },
      },
    },
    async handler(ctx, { params, query }) {
      let start: AuthorizationStart;
      try {
        start = await startAuthorization(await oauth(), {
          tenantId: tenantOf(ctx),
          userSub: principalOf(ctx).sub,
          provider: params.provider,
        });
      } catch (err) {
        throw routeProblem(err);
      }
      setBinding(ctx, start.binding);
      if (query.redirect) {
        ctx.redirect(start.url);
        return;
      }
      ctx.body = { url: start.url, expiresAt: start.expiresAt.toISOString() };
    },
  });

  const callback = defineRoute<{ provider: string }, Record<string, string>>({
    method: 'GET',
    path: '/v1/oauth/{provider}/callback',
    operationId: 'oauthCallback',
    summary: 'Where the provider sends the browser back (the redirect URI to register)',
    tag: 'integrations',
    scope: 'public',
    params: providerParams,
    query: callbackQuery,
    errors: [400, 403, 502, 503],
    responses: {
      200: {
        description: 'Connected (without ATLAS_OAUTH_SUCCESS_URL).',
        schema: { type: 'object', required: ['integration'], properties: { integration: integrationSchema } },
      },
      303: {
        description: 'To ATLAS_OAUTH_SUCCESS_URL or ATLAS_OAUTH_ERROR_URL.',
        headers: { location: 'Where next.' },
      },
    },
    async handler(ctx, { params, query }) {
      const binding = query.state === undefined ? undefined : bindingOf(ctx, query.state);
      const result = await completeAuthorization(
        await oauth(),
        params.provider,
        new URLSearchParams(query),
        binding?.value,
      );
      // Spent or not, this browser's attempt is over: the cookie goes.
      if (binding)
        clearBinding(ctx, binding.name, new URL(redirectUriFor(publicUrl, params.provider)).pathname);
      if (result.ok) {
        if (!successUrl) {
          ctx.body = { integration: result.integration };
          return;
        }
        ctx.status = 303;
        ctx.redirect(
          withQuery(successUrl, { provider: params.provider, integration: result.integration.id }),
        );
        return;
      }
      if (!errorUrl) throw callbackProblem(result);
      ctx.status = 303;
      ctx.redirect(
        withQuery(errorUrl, {
          provider: params.provider,
          error: result.error,
          error_description: result.description,
        }),
      );
    },
  });

  const mintLink = defineRoute<
    { provider: string },
    Record<string, never>,
    { ttlSeconds?: number } | undefined
  >({
    method: 'POST',
    path: '/v1/oauth/{provider}/connect-links',
    operationId: 'createConnectLink',
    summary: 'Mint a single-use link that connects the account from any browser',
    description:
      "For clients that cannot send the token on a navigation (a web page, a reconnect notification): opening the link starts the authorization, bound to the browser that opened it. The link is a credential: whoever opens it first connects an account into the tenant, in the caller's name.",
    tag: 'integrations',
    scope: 'tenant',
    params: providerParams,
    body: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ttlSeconds: {
          type: 'integer',
          minimum: 60,
          maximum: MAX_LINK_TTL_MS / 1000,
          default: LINK_TTL_MS / 1000,
          description: 'How long the link may be opened.',
        },
      },
    },
    bodyRequired: false,
    audit: { action: 'integrations.link', entityType: 'connect_link' },
    errors: [404, 409, 503],
    responses: {
      201: {
        description: 'The link.',
        schema: {
          type: 'object',
          required: ['url', 'expiresAt'],
          properties: {
            url: { type: 'string', format: 'uri', description: '`<ATLAS_PUBLIC_URL>/v1/connect/<token>`' },
            expiresAt: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
    async handler(ctx, { params, body }) {
      const hub = await oauth();
      const request = {
        tenantId: tenantOf(ctx),
        provider: params.provider,
        userSub: principalOf(ctx).sub,
        ttlMs: (body?.ttlSeconds ?? LINK_TTL_MS / 1000) * 1000,
      };
      let link: ConnectLink;
      try {
        link = await auditedTransaction(
          ctx,
          deps.db,
          201,
          (trx) => mintConnectLink(hub, request, trx),
          (made) => made.id,
        );
      } catch (err) {
        throw routeProblem(err);
      }
      ctx.status = 201;
      ctx.set('cache-control', 'no-store');
      ctx.body = { url: link.url, expiresAt: link.expiresAt.toISOString() };
    },
  });

  const openLink = defineRoute<{ token: string }>({
    method: 'GET',
    path: '/v1/connect/{token}',
    operationId: 'openConnectLink',
    summary: 'Open a connect link: on to the provider, bound to this browser',
    tag: 'integrations',
    scope: 'public',
    params: {
      type: 'object',
      required: ['token'],
      additionalProperties: false,
      properties: { token: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' } },
    },
    errors: [403, 404, 410, 503],
    responses: {
      303: {
        description: "To the provider's authorization page (or to ATLAS_OAUTH_ERROR_URL).",
        headers: { location: 'Where next.', 'set-cookie': 'The browser binding of the authorization.' },
      },
    },
    async handler(ctx, { params }) {
      ctx.set('cache-control', 'no-store');
      // The provider's pages must not see the link in a Referer.
      ctx.set('referrer-policy', 'no-referrer');
      let opened: OpenedLink;
      try {
        opened = await openConnectLink(await oauth(), params.token);
      } catch (err) {
        throw routeProblem(err);
      }
      if (opened.ok) {
        setBinding(ctx, opened.start.binding);
        ctx.status = 303;
        ctx.redirect(opened.start.url);
        return;
      }
      const failure = LINK_FAILURES[opened.reason];
      if (!errorUrl) throw callbackProblem(failure);
      ctx.status = 303;
      ctx.redirect(withQuery(errorUrl, { error: failure.error, error_description: failure.description }));
    },
  });

  return [authorize, callback, mintLink, openLink];
}

const LINK_FAILURES: Record<'unknown' | 'expired' | 'tenant_disabled', CallbackFailure> = {
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

function setBinding(ctx: ApiContext, binding: BrowserBinding): void {
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

function clearBinding(ctx: ApiContext, name: string, path: string): void {
  ctx.append(
    'set-cookie',
    stringifySetCookie(name, '', { maxAge: 0, path, httpOnly: true, sameSite: 'lax' }),
  );
}

/** The binding cookie the browser sent for this state, if any. */
function bindingOf(ctx: ApiContext, state: string): { name: string; value: string | undefined } | undefined {
  const name = bindingCookieName(state);
  const header = ctx.get('cookie');
  if (header === '') return undefined;
  const value = parseCookie(header)[name];
  return value === undefined ? undefined : { name, value };
}

function withQuery(base: string, values: Record<string, string>): string {
  const url = new URL(base);
  for (const [name, value] of Object.entries(values)) url.searchParams.set(name, value);
  return url.href;
}

function callbackProblem(failure: CallbackFailure): HttpProblem {
  return new HttpProblem({
    status: failure.status,
    detail: failure.description,
    extra: { error: failure.error },
    ...(failure.status === 503 ? { headers: { 'retry-after': '5' } } : {}),
  });
}

/** OAuth failures before the provider is involved: unknown provider, missing app config. */
function routeProblem(err: unknown): unknown {
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
