/**
 * The requests Atlas makes to token endpoints, through `oauth4webapi`: the authorization code
 * exchange (with the PKCE verifier), the refresh grant, Meta's long-lived token exchange,
 * client credentials, and RFC 7009 revocation. Each returns a {@link TokenSet} or throws an
 * {@link OAuthError} (see errors.ts for the kinds).
 */
import * as oauth from 'oauth4webapi';
import { classifyOAuthError } from './errors.ts';
import type { ResolvedProvider } from './provider.ts';
import { ACCOUNT_FIELD } from './quirks.ts';

export interface TokenSet {
  accessToken: string;
  /** Absent when the provider issued none (or did not rotate it: keep the old one). */
  refreshToken: string | undefined;
  /** Null when the provider did not say (the token is used until a 401). */
  expiresAt: Date | null;
  /** Granted scopes when the provider reports them (it may grant fewer than asked). */
  scopes: string[] | undefined;
  account: string | undefined;
}

/** Exchanges the authorization code of a validated callback. */
export async function exchangeCode(
  p: ResolvedProvider,
  callback: URLSearchParams,
  state: string,
  redirectUri: string,
  codeVerifier: string | undefined,
  now: Date,
): Promise<TokenSet> {
  return guarded(p, now, async () => {
    // Drop `iss` before validation: manifests name no issuer (see quirks.ts); the state
    // checked here was minted for this provider's own redirect URI.
    const params = new URLSearchParams(callback);
    params.delete('iss');
    const validated = oauth.validateAuthResponse(p.as, p.client, params, state);
    const res = await oauth.authorizationCodeGrantRequest(
      p.as,
      p.client,
      p.clientAuth,
      validated,
      redirectUri,
      codeVerifier ?? oauth.nopkce,
      { ...p.http, additionalParameters: p.manifest.tokenParams ?? {} },
    );
    return oauth.processAuthorizationCodeResponse(p.as, p.client, res);
  });
}

export function refreshGrant(p: ResolvedProvider, refreshToken: string, now: Date): Promise<TokenSet> {
  return guarded(p, now, async () => {
    const res = await oauth.refreshTokenGrantRequest(p.as, p.client, p.clientAuth, refreshToken, {
      ...p.http,
      additionalParameters: p.manifest.tokenParams ?? {},
    });
    return oauth.processRefreshTokenResponse(p.as, p.client, res);
  });
}

/** The value in `exchangeParams` that stands for the current access token. */
const CURRENT_TOKEN = '$access_token';

/**
 * Meta has no refresh grant: a valid token is traded for a long-lived one (about 60 days)
 * with `grant_type=fb_exchange_token&fb_exchange_token=<token>`
 * (https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived).
 * The token goes in `fb_exchange_token`, or in the parameter whose value is `$access_token`.
 */
export function exchangeGrant(p: ResolvedProvider, accessToken: string, now: Date): Promise<TokenSet> {
  return guarded(p, now, async () => {
    const params = new URLSearchParams({ ...p.manifest.tokenParams, ...p.manifest.exchangeParams });
    const grantType = params.get('grant_type') ?? 'fb_exchange_token';
    params.delete('grant_type');
    const slot = [...params].find(([, value]) => value === CURRENT_TOKEN)?.[0] ?? 'fb_exchange_token';
    params.set(slot, accessToken);
    const res = await oauth.genericTokenEndpointRequest(
      p.as,
      p.client,
      p.clientAuth,
      grantType,
      params,
      p.http,
    );
    return oauth.processGenericTokenEndpointResponse(p.as, p.client, res);
  });
}

export function clientCredentialsGrant(p: ResolvedProvider, now: Date): Promise<TokenSet> {
  return guarded(p, now, async () => {
    const params = new URLSearchParams(p.manifest.tokenParams ?? {});
    if (p.scope !== '') params.set('scope', p.scope);
    const res = await oauth.clientCredentialsGrantRequest(p.as, p.client, p.clientAuth, params, p.http);
    return oauth.processClientCredentialsResponse(p.as, p.client, res);
  });
}

/** RFC 7009 revocation; revoking the refresh token ends the whole grant at most providers. */
export async function revokeToken(
  p: ResolvedProvider,
  token: string,
  hint: 'access_token' | 'refresh_token',
): Promise<void> {
  try {
    const res = await oauth.revocationRequest(p.as, p.client, p.clientAuth, token, {
      ...p.http,
      additionalParameters: { token_type_hint: hint },
    });
    await oauth.processRevocationResponse(res);
  } catch (err) {
    throw classifyOAuthError(err, p.id);
  }
}

async function guarded(
  p: ResolvedProvider,
  now: Date,
  request: () => Promise<oauth.TokenEndpointResponse>,
): Promise<TokenSet> {
  let answer: oauth.TokenEndpointResponse;
  try {
    answer = await request();
  } catch (err) {
    throw classifyOAuthError(err, p.id);
  }
  return toTokenSet(answer, now);
}

function toTokenSet(answer: oauth.TokenEndpointResponse, now: Date): TokenSet {
  const expiresIn = answer.expires_in;
  const granted = typeof answer.scope === 'string' ? answer.scope : undefined;
  const account = answer[ACCOUNT_FIELD];
  return {
    accessToken: answer.access_token,
    refreshToken: answer.refresh_token,
    expiresAt:
      typeof expiresIn === 'number' && expiresIn > 0 ? new Date(now.getTime() + expiresIn * 1000) : null,
    // Providers answer with the scope joined their own way (TikTok and Meta: commas).
    scopes: granted === undefined ? undefined : granted.split(/[\s,]+/).filter(Boolean),
    account: typeof account === 'string' ? account : undefined,
  };
}
