/** What the OAuth hub is given once per process, and the provider lookup every part shares. */
import type { Knex } from 'knex';
import type { Keyring } from '../crypto/index.ts';
import type { Logger } from '../log.ts';
import type { Catalogue } from '../manifest/catalogue.ts';
import type { OAuthProvider } from '../manifest/types.gen.ts';
import { makeSecretStore } from '../secrets/store.ts';
import { OAuthError } from './errors.ts';
import { type ResolvedProvider, resolveProvider } from './provider.ts';

export interface OAuthDeps {
  db: Knex;
  log: Logger;
  catalogue: Catalogue;
  /** The secrets store's keyring: tokens are encrypted the same way. */
  keyring: Keyring;
  /** Client ids, secrets and `$NAME` endpoint segments are read from here. */
  env: Readonly<Record<string, string | undefined>>;
  /** ATLAS_PUBLIC_URL: redirect URIs are `<publicUrl>/v1/oauth/<provider>/callback`. */
  publicUrl: string;
  /** Renew a token this long before it expires (5 minutes). */
  refreshMarginMs?: number;
  /** Longest a token request may take (15 s). */
  timeoutMs?: number;
  /** How long a worker waits for another one's renewal of the same integration (30 s). */
  lockTimeoutMs?: number;
  /** Test hooks: the clock, the transport, and a tap on every request to a provider. */
  now?: () => Date;
  fetchImpl?: typeof fetch;
  onRequest?: (url: string) => void;
}

export const REFRESH_MARGIN_MS = 5 * 60_000;

export function manifestOf(deps: OAuthDeps, provider: string): OAuthProvider {
  const manifest = deps.catalogue.oauthProvider(provider)?.manifest;
  if (!manifest)
    throw new OAuthError(
      'invalid',
      'unknown_provider',
      `there is no OAuthProvider "${provider}" in the catalogue`,
    );
  return manifest;
}

/** The provider as a tenant uses it: the tenant's own app when it keeps one in its secrets. */
export function providerFor(
  deps: OAuthDeps,
  manifest: OAuthProvider,
  tenantId?: string,
): Promise<ResolvedProvider> {
  const secrets = tenantId === undefined ? undefined : makeSecretStore(deps.db, deps.keyring);
  return resolveProvider(manifest, {
    env: deps.env,
    ...(secrets && tenantId !== undefined
      ? { tenantSecret: (name: string) => secrets.get(tenantId, name) }
      : {}),
    ...(deps.timeoutMs === undefined ? {} : { timeoutMs: deps.timeoutMs }),
    ...(deps.fetchImpl ? { fetchImpl: deps.fetchImpl } : {}),
    ...(deps.onRequest ? { onRequest: deps.onRequest } : {}),
  });
}

export function redirectUriFor(publicUrl: string, provider: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/v1/oauth/${encodeURIComponent(provider)}/callback`;
}

export const nowOf = (deps: OAuthDeps): Date => deps.now?.() ?? new Date();
