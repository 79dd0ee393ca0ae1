/**
 * The token source connectors reach through `ctx.accessToken(provider, { forceRefresh })`.
 *
 * A token that expires within the margin (5 minutes) is renewed before it is handed out.
 * Renewal runs under the integration's row lock (`select ... for update`), so across every
 * worker exactly one renewal per integration happens at a time: the others wait on the lock,
 * then re-read, see the bumped `version` and use the new token without asking the provider.
 * Within one process, concurrent callers share one attempt, so they hold one connection.
 *
 * `forceRefresh` is for a connector whose provider just answered 401 to the token: it renews
 * even a token that looks fresh, unless another caller renewed it since this one read it.
 * The connector then retries its call once; a second 401 is an auth failure.
 *
 * A renewal the provider refuses with `invalid_grant` (revoked, expired, or a rotated refresh
 * token reused) disconnects the integration, deletes its tokens, audits it, and fails every
 * waiting step with an auth error that says to re-authorize. Network errors, timeouts, 429
 * and 5xx are retryable and change nothing.
 */
import type { Knex } from 'knex';
import { ConnectorError } from '../connector-sdk/index.ts';
import { recordAudit } from '../db/audit.ts';
import { findIntegration, type IntegrationRow, markDisconnected } from '../db/integrations.ts';
import { setLockTimeout } from '../db/knex.ts';
import { withTenant } from '../db/rls.ts';
import { notifyDisconnected } from '../notify/record.ts';
import type { TokenSource } from '../runtime/deps.ts';
import { makeAppTokens } from './app-tokens.ts';
import { manifestOf, nowOf, type OAuthDeps, providerFor, REFRESH_MARGIN_MS } from './deps.ts';
import { classifyOAuthError, OAuthError, reauthorize, toConnectorError } from './errors.ts';
import { exchangeGrant, refreshGrant, type TokenSet } from './grants.ts';
import { openToken, storeRenewed } from './store.ts';

type Renewal = { ok: true; token: string } | { ok: false; error: ConnectorError };

export function makeTokenSource(deps: OAuthDeps): TokenSource {
  const inFlight = new Map<string, Promise<string>>();
  const appTokens = makeAppTokens(deps);
  const margin = deps.refreshMarginMs ?? REFRESH_MARGIN_MS;

  const fresh = (row: IntegrationRow): boolean =>
    row.access_token !== null &&
    (row.expires_at === null || row.expires_at.getTime() - nowOf(deps).getTime() > margin);

  async function userToken(tenantId: string, provider: string, force: boolean): Promise<string> {
    const seen = await withTenant(deps.db, tenantId, (trx) => findIntegration(trx, tenantId, provider));
    if (!seen) {
      throw ConnectorError.auth(
        'not_connected',
        `tenant ${tenantId} has no ${provider} integration; connect one through GET /v1/oauth/${provider}/authorize`,
      );
    }
    if (seen.status === 'disconnected') throw disconnectedError(seen);
    if (!force && fresh(seen)) return open(seen);
    const renewal = await withTenant(deps.db, tenantId, (trx) => renewLocked(trx, seen, force));
    if (!renewal.ok) throw renewal.error;
    return renewal.token;
  }

  async function renewLocked(trx: Knex.Transaction, seen: IntegrationRow, force: boolean): Promise<Renewal> {
    await setLockTimeout(trx, deps.lockTimeoutMs ?? 30_000);
    const row = await lockRow(trx, seen);
    if (!row)
      return {
        ok: false,
        error: ConnectorError.auth('not_connected', `the ${seen.provider} integration was deleted`),
      };
    if (row.status === 'disconnected') return { ok: false, error: disconnectedError(row) };
    // Another worker renewed while this one waited for the lock: its token is the new one.
    if (row.version !== seen.version && row.access_token !== null) return { ok: true, token: open(row) };
    if (!force && fresh(row)) return { ok: true, token: open(row) };
    let tokens: TokenSet | undefined;
    try {
      tokens = await renew(row, force);
    } catch (err) {
      const e = classifyOAuthError(err, row.provider);
      if (e.kind !== 'revoked') return { ok: false, error: toConnectorError(e, row.provider) };
      await disconnect(trx, row, e);
      return { ok: false, error: toConnectorError(e, row.provider) };
    }
    if (!tokens) return { ok: true, token: open(row) };
    await storeRenewed(trx, deps.keyring, row, tokens);
    deps.log.info(
      { tenant: row.tenant_id, provider: row.provider, rotated: tokens.refreshToken !== undefined },
      'oauth:token-renewed',
    );
    return { ok: true, token: tokens.accessToken };
  }

  async function lockRow(trx: Knex.Transaction, seen: IntegrationRow): Promise<IntegrationRow | undefined> {
    try {
      return await findIntegration(trx, seen.tenant_id, seen.provider, true);
    } catch (err) {
      // 55P03 lock_not_available: the renewing worker is slow; this step tries again later.
      if ((err as { code?: string }).code === '55P03') {
        throw ConnectorError.retryable(
          'token_renewal_busy',
          `the ${seen.provider} token is being renewed elsewhere`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  /** The new tokens, or undefined to keep using the current token while it lasts. */
  async function renew(row: IntegrationRow, force: boolean): Promise<TokenSet | undefined> {
    const manifest = manifestOf(deps, row.provider);
    const p = await providerFor(deps, manifest, row.tenant_id);
    const refreshToken = openToken(deps.keyring, row, 'refresh', row.refresh_token);
    if (p.refresh === 'refresh_token' && refreshToken !== undefined)
      return refreshGrant(p, refreshToken, nowOf(deps));
    if (p.refresh === 'exchange' && row.access_token !== null)
      return exchangeGrant(p, open(row), nowOf(deps));
    // Nothing to renew with (refresh: none, or no refresh token issued, as LinkedIn does for
    // apps outside its partner programme): the token serves until it expires.
    const expired = row.expires_at !== null && row.expires_at.getTime() <= nowOf(deps).getTime();
    if (expired || force)
      throw new OAuthError(
        'revoked',
        expired ? 'expired' : 'rejected',
        `${row.provider}: the access token ${expired ? 'expired' : 'was rejected'} and cannot be renewed`,
      );
    return undefined;
  }

  async function disconnect(trx: Knex.Transaction, row: IntegrationRow, e: OAuthError): Promise<void> {
    await markDisconnected(trx, row, e.code);
    await notifyDisconnected(trx, row, e.code);
    await recordAudit(trx, {
      tenantId: row.tenant_id,
      actor: 'engine',
      action: 'integrations.disconnect',
      entityType: 'integration',
      entityId: row.id,
      status: e.status ?? null,
      result: 'error',
      summary: { provider: row.provider, reason: e.code, message: e.message },
    });
    deps.log.warn({ tenant: row.tenant_id, provider: row.provider, reason: e.code }, 'oauth:disconnected');
  }

  const open = (row: IntegrationRow): string =>
    openToken(deps.keyring, row, 'access', row.access_token) ?? '';

  return {
    async accessToken(tenantId, provider, opts = {}) {
      const force = opts.forceRefresh === true;
      let manifest: ReturnType<typeof manifestOf>;
      try {
        manifest = manifestOf(deps, provider);
      } catch (err) {
        throw toConnectorError(classifyOAuthError(err, provider), provider);
      }
      if (manifest.grant === 'client_credentials') return appTokens.token(manifest, force);
      const key = `${tenantId}\n${provider}\n${force}`;
      const pending = inFlight.get(key);
      if (pending) return pending;
      const attempt = userToken(tenantId, provider, force).finally(() => inFlight.delete(key));
      inFlight.set(key, attempt);
      return attempt;
    },
  };
}

function disconnectedError(row: IntegrationRow): ConnectorError {
  return ConnectorError.auth(
    'reauthorize',
    reauthorize(row.provider, `${row.provider} refused the grant (${row.status_reason ?? 'revoked'})`),
  );
}
