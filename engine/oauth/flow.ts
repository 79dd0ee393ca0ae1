/**
 * The authorization code flow with PKCE (RFC 6749 section 4.1, RFC 7636 with S256):
 * `startAuthorization` mints a one-time state, the browser binding that must come back with it
 * (a cookie), and the provider's URL; `completeAuthorization` takes the browser's callback and
 * its binding, spends the state, exchanges the code and stores the tokens.
 * Every way the callback can fail ends in a {@link CallbackFailure} with an HTTP status and an
 * OAuth-style error code, never an exception the API would answer with 500.
 */
import * as oauth from 'oauth4webapi';
import { recordAudit } from '../db/audit.ts';
import { withTenant } from '../db/rls.ts';
import { manifestOf, nowOf, type OAuthDeps, providerFor, redirectUriFor } from './deps.ts';
import { classifyOAuthError, OAuthError } from './errors.ts';
import { exchangeCode, exchangeGrant, type TokenSet } from './grants.ts';
import type { ResolvedProvider } from './provider.ts';
import { consumeState, createState, hashState, type PendingAuthorization } from './states.ts';
import { type IntegrationView, saveConnection, toView } from './store.ts';

export interface AuthorizationStart {
  /** Where to send the user's browser. */
  url: string;
  expiresAt: Date;
  /** The cookie the same browser must carry back to the callback. */
  binding: BrowserBinding;
}

/**
 * A secret for the browser that opens the URL, as an HttpOnly, SameSite=Lax cookie that only
 * the callback's path receives (Lax: the provider's redirect back is a cross-site navigation,
 * which a Strict cookie would miss). It never appears in a URL.
 */
export interface BrowserBinding {
  name: string;
  value: string;
  /** The callback's path. */
  path: string;
  expiresAt: Date;
  /** Whether the public URL is https: then the cookie is `Secure`. */
  secure: boolean;
}

/** The cookie of a state's binding: one per authorization, so parallel ones do not collide. */
export const bindingCookieName = (state: string): string => `atlas_oauth_${hashState(state).slice(0, 16)}`;

/** The provider's manifest, if a user can authorize it (its grant is the authorization code). */
export function authorizableManifest(deps: OAuthDeps, provider: string) {
  const manifest = manifestOf(deps, provider);
  if ((manifest.grant ?? 'authorization_code') !== 'authorization_code') {
    throw new OAuthError(
      'invalid',
      'not_authorizable',
      `${provider} uses the ${manifest.grant} grant: there is nothing for a user to authorize`,
    );
  }
  return manifest;
}

export async function startAuthorization(
  deps: OAuthDeps,
  req: { tenantId: string; userSub: string; provider: string },
): Promise<AuthorizationStart> {
  const manifest = authorizableManifest(deps, req.provider);
  const p = await providerFor(deps, manifest, req.tenantId);
  const codeVerifier = p.pkce ? oauth.generateRandomCodeVerifier() : undefined;
  const redirectUri = redirectUriFor(deps.publicUrl, p.id);
  const { state, binding, expiresAt } = await createState(
    deps.db,
    deps.keyring,
    { tenantId: req.tenantId, provider: p.id, userSub: req.userSub, redirectUri, codeVerifier },
    nowOf(deps),
  );
  const url = new URL(p.as.authorization_endpoint ?? '');
  const params = url.searchParams;
  params.set('response_type', 'code');
  params.set(p.clientIdParam, p.credentials.clientId);
  params.set('redirect_uri', redirectUri);
  if (p.scope !== '') params.set('scope', p.scope);
  params.set('state', state);
  if (codeVerifier !== undefined) {
    params.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
    params.set('code_challenge_method', 'S256');
  }
  // Last, so a provider's own requirement wins (Google: access_type=offline, prompt=consent).
  for (const [name, value] of Object.entries(manifest.authorizationParams ?? {})) params.set(name, value);
  const callback = new URL(redirectUri);
  return {
    url: url.href,
    expiresAt,
    binding: {
      name: bindingCookieName(state),
      value: binding,
      path: callback.pathname,
      expiresAt,
      secure: callback.protocol === 'https:',
    },
  };
}

export interface CallbackSuccess {
  ok: true;
  tenantId: string;
  integration: IntegrationView;
}

export interface CallbackFailure {
  ok: false;
  status: number;
  /**
   * `invalid_state`, `expired_state`, `browser_mismatch`, `access_denied`, `invalid_grant`,
   * `provider_unavailable`...
   */
  error: string;
  description: string;
  tenantId?: string;
}

export type CallbackResult = CallbackSuccess | CallbackFailure;

const fail = (status: number, error: string, description: string, tenantId?: string): CallbackFailure => ({
  ok: false,
  status,
  error,
  description,
  ...(tenantId === undefined ? {} : { tenantId }),
});

/**
 * `binding` is the value of the cookie named {@link bindingCookieName} of the callback's state,
 * as the browser sent it (undefined: none).
 */
export async function completeAuthorization(
  deps: OAuthDeps,
  provider: string,
  query: URLSearchParams,
  binding: string | undefined,
): Promise<CallbackResult> {
  const state = query.get('state');
  if (!state) return fail(400, 'invalid_state', 'The callback carries no state.');
  const consumed = await consumeState(deps.db, deps.keyring, state, provider, binding, nowOf(deps));
  if (!consumed.ok) {
    if (consumed.reason === 'browser_mismatch') {
      // Someone completed another browser's authorization: connect nothing, keep the state
      // for the browser that started it, and leave a trace in the tenant's audit log.
      const refused = fail(
        403,
        'browser_mismatch',
        'This authorization was started in another browser; start it again from this one.',
        consumed.pending.tenantId,
      );
      await auditConnect(deps, consumed.pending, refused);
      return refused;
    }
    return consumed.reason === 'expired'
      ? fail(400, 'expired_state', 'The authorization took longer than 10 minutes; start again.')
      : fail(400, 'invalid_state', 'The state is unknown or was already used; start again.');
  }
  const pending = consumed.pending;
  const result = await connect(deps, pending, query);
  if (!result.ok) await auditConnect(deps, pending, result);
  return result;
}

async function connect(
  deps: OAuthDeps,
  pending: PendingAuthorization,
  query: URLSearchParams,
): Promise<CallbackResult> {
  const providerError = query.get('error');
  if (providerError) {
    const description = query.get('error_description') ?? `${pending.provider} answered ${providerError}`;
    return fail(
      providerError === 'access_denied' ? 403 : 400,
      providerError,
      description.slice(0, 500),
      pending.tenantId,
    );
  }
  let tokens: TokenSet;
  let p: ResolvedProvider;
  try {
    p = await providerFor(deps, manifestOf(deps, pending.provider), pending.tenantId);
    tokens = await exchange(deps, p, query, pending);
  } catch (err) {
    const e = classifyOAuthError(err, pending.provider);
    deps.log.warn({ err: e, provider: pending.provider, tenant: pending.tenantId }, 'oauth:exchange-failed');
    return fail(
      exchangeStatus(e),
      e.kind === 'transient' ? 'provider_unavailable' : e.code,
      e.message,
      pending.tenantId,
    );
  }
  const integration = await withTenant(deps.db, pending.tenantId, async (trx) => {
    const row = await saveConnection(trx, deps.keyring, {
      tenantId: pending.tenantId,
      provider: p.id,
      tokens,
      requestedScopes: p.scopes,
      connectedBy: pending.userSub,
    });
    await recordAudit(
      trx,
      connectAudit(pending, 'ok', 200, { integrationId: row.id, account: row.account }, row.id),
    );
    return toView(row);
  });
  return { ok: true, tenantId: pending.tenantId, integration };
}

async function exchange(
  deps: OAuthDeps,
  p: ResolvedProvider,
  query: URLSearchParams,
  pending: PendingAuthorization,
): Promise<TokenSet> {
  const state = query.get('state') ?? '';
  const first = await exchangeCode(p, query, state, pending.redirectUri, pending.codeVerifier, nowOf(deps));
  if (p.refresh !== 'exchange') return first;
  // Meta's code gives a short-lived token (1 to 2 hours); trade it at once for the long-lived
  // one (60 days) so the integration survives the day.
  const long = await exchangeGrant(p, first.accessToken, nowOf(deps));
  return { ...long, account: long.account ?? first.account, scopes: long.scopes ?? first.scopes };
}

/** 400 for what the user's authorization did wrong, 502 for what the provider did, 503 to retry. */
function exchangeStatus(e: OAuthError): number {
  if (e.kind === 'transient') return 503;
  if (e.kind === 'revoked') return 400;
  return 502;
}

type AuditedPending = Pick<PendingAuthorization, 'tenantId' | 'provider' | 'userSub'>;

function connectAudit(
  pending: AuditedPending,
  result: 'ok' | 'error',
  status: number,
  summary: Record<string, unknown>,
  entityId: string | null = null,
) {
  return {
    tenantId: pending.tenantId,
    actor: pending.userSub,
    action: 'integrations.connect',
    entityType: 'integration',
    entityId,
    status,
    result,
    summary: { provider: pending.provider, ...summary },
  };
}

async function auditConnect(
  deps: OAuthDeps,
  pending: AuditedPending,
  failure: CallbackFailure,
): Promise<void> {
  try {
    await recordAudit(
      deps.db,
      connectAudit(pending, 'error', failure.status, {
        error: failure.error,
        description: failure.description,
      }),
    );
  } catch (err) {
    deps.log.error({ err }, 'oauth:audit-not-written');
  }
}
