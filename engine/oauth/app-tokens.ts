/**
 * Client-credentials tokens of the platform's own apps (the Microsoft Graph app:
 * `MS_TENANT_ID`, `MS_CLIENT_ID`, `MS_CLIENT_SECRET`), cached in `oauth_app_tokens` until
 * 5 minutes before they expire and shared by every worker and tenant. There is no refresh
 * token in this grant (RFC 6749 section 4.4.3): a new token is simply requested, under the
 * cache row's lock so that one worker asks while the others wait and read its answer.
 *
 * The cache key hashes the token URL, client id, client secret and scope, so a rotated secret
 * or another directory tenant never reads a token issued for the old one.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { ConnectorError } from '../connector-sdk/index.ts';
import { decrypt, encrypt } from '../crypto/index.ts';
import { type AppTokenRow, lockAppToken, readAppToken, storeAppToken } from '../db/oauth-app-tokens.ts';
import type { OAuthProvider } from '../manifest/types.gen.ts';
import { nowOf, type OAuthDeps, providerFor, REFRESH_MARGIN_MS } from './deps.ts';
import { classifyOAuthError, toConnectorError } from './errors.ts';
import { clientCredentialsGrant } from './grants.ts';
import type { ResolvedProvider } from './provider.ts';

export interface AppTokens {
  /** A valid token of the app; `force` asks for a new one unless another worker just did. */
  token(manifest: OAuthProvider, force: boolean): Promise<string>;
}

export function makeAppTokens(deps: OAuthDeps): AppTokens {
  const margin = deps.refreshMarginMs ?? REFRESH_MARGIN_MS;
  const inFlight = new Map<string, Promise<string>>();
  const aad = (key: string) => `oauth_app_tokens:${key}`;
  const usable = (row: AppTokenRow | undefined): row is AppTokenRow & { access_token: string } =>
    row?.access_token != null &&
    (row.expires_at === null || row.expires_at.getTime() - nowOf(deps).getTime() > margin);

  async function fetchOrWait(p: ResolvedProvider, key: string, force: boolean): Promise<string> {
    const seen = await readAppToken(deps.db, key);
    if (!force && usable(seen)) return decrypt(seen.access_token, deps.keyring, aad(key));
    return deps.db.transaction(async (trx) => {
      const row = await lockAppToken(trx, key, p.id, deps.lockTimeoutMs ?? 30_000);
      const renewedMeanwhile = row?.access_token != null && row.access_token !== (seen?.access_token ?? null);
      if (usable(row) && (!force || renewedMeanwhile))
        return decrypt(row.access_token, deps.keyring, aad(key));
      return requestAndStore(trx, p, key);
    });
  }

  async function requestAndStore(trx: Knex.Transaction, p: ResolvedProvider, key: string): Promise<string> {
    let token: string;
    let expiresAt: Date | null;
    try {
      ({ accessToken: token, expiresAt } = await clientCredentialsGrant(p, nowOf(deps)));
    } catch (err) {
      const e = classifyOAuthError(err, p.id);
      // A refused app is the platform's configuration, not a tenant's grant: nothing to disconnect.
      if (e.kind === 'revoked' || e.kind === 'client')
        throw ConnectorError.auth(
          e.code,
          `${e.message}: check ${p.manifest.clientIdEnv} and ${p.manifest.clientSecretEnv ?? 'its secret'}`,
          { cause: e },
        );
      throw toConnectorError(e, p.id);
    }
    await storeAppToken(trx, key, encrypt(token, deps.keyring, aad(key)), expiresAt);
    return token;
  }

  return {
    async token(manifest, force) {
      let p: ResolvedProvider;
      try {
        p = await providerFor(deps, manifest);
      } catch (err) {
        throw toConnectorError(classifyOAuthError(err, manifest.id), manifest.id);
      }
      const key = cacheKey(p);
      const flightKey = `${key}\n${force}`;
      const pending = inFlight.get(flightKey);
      if (pending) return pending;
      const attempt = fetchOrWait(p, key, force).finally(() => inFlight.delete(flightKey));
      inFlight.set(flightKey, attempt);
      return attempt;
    },
  };
}

function cacheKey(p: ResolvedProvider): string {
  return createHash('sha256')
    .update(
      [p.as.token_endpoint, p.credentials.clientId, p.credentials.clientSecret ?? '', p.scope].join('\n'),
    )
    .digest('hex');
}
