/**
 * Connecting an account: `GET /v1/oauth/{provider}/authorize` (a tenant's user, with a token)
 * answers with the provider's URL; the provider sends the browser back to
 * `GET /v1/oauth/{provider}/callback` (public: the browser carries no API token, the one-time
 * state is what binds the answer to the tenant and user), which stores the tokens and sends
 * the browser on to ATLAS_OAUTH_SUCCESS_URL or ATLAS_OAUTH_ERROR_URL.
 */
import {
  type CallbackFailure,
  completeAuthorization,
  type OAuthDeps,
  OAuthError,
  startAuthorization,
} from '../../oauth/index.ts';
import { loadKeyring } from '../../secrets/keys.ts';
import { principalOf, tenantOf } from '../context.ts';
import { HttpProblem, problem } from '../problem.ts';
import { type AnyRoute, defineRoute, type JsonSchema } from '../route.ts';
import type { RouteDeps } from './deps.ts';

export const providerParams: JsonSchema = {
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
  const { successUrl, errorUrl } = deps.config.oauth;

  const authorize = defineRoute<{ provider: string }, { redirect: boolean }>({
    method: 'GET',
    path: '/v1/oauth/{provider}/authorize',
    operationId: 'authorizeIntegration',
    summary: "Start connecting the tenant's account at a provider",
    description:
      'Mints a one-time state (10 minutes, bound to the tenant and the caller) and a PKCE verifier, and answers with the provider URL to send the browser to.',
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
      let start: Awaited<ReturnType<typeof startAuthorization>>;
      try {
        start = await startAuthorization(await oauth(), {
          tenantId: tenantOf(ctx),
          userSub: principalOf(ctx).sub,
          provider: params.provider,
        });
      } catch (err) {
        throw routeProblem(err);
      }
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
      const result = await completeAuthorization(await oauth(), params.provider, new URLSearchParams(query));
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

  return [authorize, callback];
}

function withQuery(base: string, values: Record<string, string>): string {
  const url = new URL(base);
  for (const [name, value] of Object.entries(values)) url.searchParams.set(name, value);
  return url.href;
}

function callbackProblem(failure: CallbackFailure): HttpProblem {
  const titles: Record<number, string> = {
    400: 'Bad Request',
    403: 'Forbidden',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
  };
  return new HttpProblem({
    status: failure.status,
    title: titles[failure.status] ?? 'Error',
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
    title: 'Service Unavailable',
    detail: err.message,
    extra: { error: err.code },
  });
}
