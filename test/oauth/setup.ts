/**
 * What the OAuth tests share: provider manifests pointing at the local authorization server,
 * the hub's dependencies over a test database, tenants, and a helper that connects an
 * integration through the real flow (authorize, browser, callback).
 */
import type { Knex } from 'knex';
import { expect } from 'vitest';
import { parseKeyring } from '../../engine/crypto/index.ts';
import { makeLogger } from '../../engine/log.ts';
import { Catalogue, type Manifest, manifestHash } from '../../engine/manifest/index.ts';
import type { OAuthProvider } from '../../engine/manifest/types.gen.ts';
import {
  completeAuthorization,
  type OAuthDeps,
  redirectUriFor,
  startAuthorization,
} from '../../engine/oauth/index.ts';
import {
  type AuthorizationServer,
  authorizeThroughBrowser,
  type BrowserOptions,
  CLIENTS,
} from './authorization-server.ts';

export const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');
export const keyring = parseKeyring(ENCRYPTION_KEY);

/** The client ids and secrets, as the environment would hold them. */
export const ENV = {
  IDP_BASIC_CLIENT_ID: CLIENTS.basic.id,
  IDP_BASIC_CLIENT_SECRET: CLIENTS.basic.secret,
  IDP_POST_CLIENT_ID: CLIENTS.post.id,
  IDP_POST_CLIENT_SECRET: CLIENTS.post.secret,
};

/** `idp-post` authenticates with form parameters (like Google), `idp-basic` with HTTP Basic (like X). */
export function providerManifests(issuer: string): OAuthProvider[] {
  const common = {
    apiVersion: 'atlas/v1' as const,
    kind: 'OAuthProvider' as const,
    authorizationUrl: `${issuer}/auth`,
    tokenUrl: `${issuer}/token`,
    revocationUrl: `${issuer}/token/revocation`,
    scopes: ['openid', 'offline_access', 'email'],
    // oidc-provider, like Google, issues a refresh token only after an explicit consent.
    authorizationParams: { prompt: 'consent' },
  };
  return [
    {
      ...common,
      id: 'idp-post',
      tokenAuthMethod: 'post',
      clientIdEnv: 'IDP_POST_CLIENT_ID',
      clientSecretEnv: 'IDP_POST_CLIENT_SECRET',
    },
    {
      ...common,
      id: 'idp-basic',
      tokenAuthMethod: 'basic',
      clientIdEnv: 'IDP_BASIC_CLIENT_ID',
      clientSecretEnv: 'IDP_BASIC_CLIENT_SECRET',
    },
    {
      apiVersion: 'atlas/v1',
      kind: 'OAuthProvider',
      id: 'idp-app',
      grant: 'client_credentials',
      tokenUrl: `${issuer}/token`,
      scopes: ['api:read'],
      clientIdEnv: 'IDP_POST_CLIENT_ID',
      clientSecretEnv: 'IDP_POST_CLIENT_SECRET',
    },
  ];
}

export function catalogueOf(manifests: Manifest[]): Catalogue {
  return new Catalogue(
    manifests.map((manifest) => ({ manifest, hash: manifestHash(manifest), file: `${manifest.id}.yaml` })),
  );
}

export const PUBLIC_URL = 'http://127.0.0.1:1';

/** The redirect URIs the authorization server must accept for these providers. */
export const redirectUris = (publicUrl: string) =>
  ['idp-post', 'idp-basic'].map((p) => redirectUriFor(publicUrl, p));

export function oauthDeps(db: Knex, idp: AuthorizationServer, extra: Partial<OAuthDeps> = {}): OAuthDeps {
  return {
    db,
    log: makeLogger('silent', false),
    catalogue: catalogueOf(providerManifests(idp.issuer)),
    keyring,
    env: ENV,
    publicUrl: PUBLIC_URL,
    ...extra,
  };
}

export async function createTenants(db: Knex, ...ids: string[]): Promise<void> {
  await db('tenants')
    .insert(ids.map((id) => ({ id, name: id })))
    .onConflict('id')
    .ignore();
}

/** Connects `provider` for the tenant through the real flow; returns the integration id. */
export async function connect(
  deps: OAuthDeps,
  tenantId: string,
  provider = 'idp-post',
  browser: BrowserOptions = {},
): Promise<string> {
  const start = await startAuthorization(deps, { tenantId, userSub: 'user-1', provider });
  const back = await authorizeThroughBrowser(start.url, redirectUriFor(deps.publicUrl, provider), browser);
  const result = await completeAuthorization(deps, provider, back.searchParams, start.binding.value);
  if (!result.ok) throw new Error(`connect failed: ${result.error}: ${result.description}`);
  expect(result.integration.status).toBe('connected');
  return result.integration.id;
}

/** Makes the stored access token look about to expire, so the next use renews it. */
export async function expireSoon(
  db: Knex,
  tenantId: string,
  provider = 'idp-post',
  inMs = 60_000,
): Promise<void> {
  await db('integrations')
    .where({ tenant_id: tenantId, provider })
    .update({ expires_at: new Date(Date.now() + inMs) });
}
