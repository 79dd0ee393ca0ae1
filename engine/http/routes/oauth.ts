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
import {
  type AuthorizationStart,
  type ConnectLink,
  completeAuthorization,
  LINK_TTL_MS,
  MAX_LINK_TTL_MS,
  mintConnectLink,
  type OpenedLink,
  openConnectLink,
  redirectUriFor,
  startAuthorization,
} from '../../oauth/index.ts';
import { principalOf, tenantOf } from '../context.ts';
import { auditedTransaction } from '../plugins/audit.ts';
import { type AnyRoute, defineRoute, type JsonSchema } from '../route.ts';
import { expiringUrlSchema } from '../schemas.ts';
import type { RouteDeps } from './deps.ts';
import {
  bindingOf,
  callbackProblem,
  clearBinding,
  integrationSchema,
  LINK_FAILURES,
  lazyOAuthDeps,
  routeProblem,
  setBinding,
  withQuery,
} from './oauth-browser.ts';

const providerParams: JsonSchema = {
  type: 'object',
  required: ['provider'],
  additionalProperties: false,
  properties: { provider: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' } },
};

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
        schema: expiringUrlSchema(),
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
        schema: expiringUrlSchema('`<ATLAS_PUBLIC_URL>/v1/connect/<token>`'),
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
