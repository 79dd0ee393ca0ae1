/**
 * Listing and removing a tenant's integrations. Removal revokes the grant at the provider
 * first where the manifest names an RFC 7009 endpoint (Google, X, LinkedIn, TikTok; Microsoft
 * and Meta have none), then deletes the row and its tokens whatever the provider said: the
 * tenant asked for Atlas to forget them, and a provider that is down must not prevent that.
 */
import { deleteIntegration, findIntegrationById, type IntegrationRow } from '../db/integrations.ts';
import { withTenant } from '../db/rls.ts';
import { manifestOf, type OAuthDeps, providerFor } from './deps.ts';
import { classifyOAuthError } from './errors.ts';
import { revokeToken } from './grants.ts';
import { type IntegrationView, listIntegrations, openToken } from './store.ts';

export type Revocation = 'revoked' | 'unsupported' | 'failed' | 'nothing_to_revoke';

export function integrationsOf(deps: OAuthDeps, tenantId: string): Promise<IntegrationView[]> {
  return withTenant(deps.db, tenantId, (trx) => listIntegrations(trx, tenantId));
}

/** Undefined when the tenant has no such integration. */
export async function removeIntegration(
  deps: OAuthDeps,
  tenantId: string,
  id: string,
): Promise<{ provider: string; revocation: Revocation } | undefined> {
  const row = await withTenant(deps.db, tenantId, (trx) => findIntegrationById(trx, tenantId, id));
  if (!row) return undefined;
  const revocation = await revokeAtProvider(deps, row);
  await withTenant(deps.db, tenantId, (trx) => deleteIntegration(trx, tenantId, id));
  return { provider: row.provider, revocation };
}

async function revokeAtProvider(deps: OAuthDeps, row: IntegrationRow): Promise<Revocation> {
  const manifest = deps.catalogue.oauthProvider(row.provider)?.manifest;
  if (!manifest?.revocationUrl) return 'unsupported';
  const refresh = openToken(deps.keyring, row, 'refresh', row.refresh_token);
  const access = openToken(deps.keyring, row, 'access', row.access_token);
  if (refresh === undefined && access === undefined) return 'nothing_to_revoke';
  try {
    const p = await providerFor(deps, manifestOf(deps, row.provider), row.tenant_id);
    // Revoking the refresh token ends the grant and its access tokens (RFC 7009 section 2.1).
    if (refresh !== undefined) await revokeToken(p, refresh, 'refresh_token');
    else if (access !== undefined) await revokeToken(p, access, 'access_token');
    return 'revoked';
  } catch (err) {
    const e = classifyOAuthError(err, row.provider);
    deps.log.warn({ err: e, tenant: row.tenant_id, provider: row.provider }, 'oauth:revoke-failed');
    return 'failed';
  }
}
