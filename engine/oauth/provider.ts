/**
 * An `OAuthProvider` manifest made ready to use: its endpoints as `oauth4webapi` server
 * metadata, the client (id and secret from the tenant's secrets or the environment, never the
 * manifest), the client authentication its token endpoint wants, and the quirk-aware
 * transport.
 */
import * as oauth from 'oauth4webapi';
import type { OAuthProvider } from '../manifest/types.gen.ts';
import { OAuthError } from './errors.ts';
import { quirkFetch } from './quirks.ts';

export interface ProviderClient {
  clientId: string;
  clientSecret: string | undefined;
  /** `tenant` when the tenant brought its own app (tenant secrets), else `platform`. */
  source: 'tenant' | 'platform';
}

export interface ResolvedProvider {
  id: string;
  manifest: OAuthProvider;
  grant: 'authorization_code' | 'client_credentials';
  refresh: 'refresh_token' | 'exchange' | 'none';
  pkce: boolean;
  scopes: string[];
  /** The scopes joined the provider's way (Meta and TikTok: commas). */
  scope: string;
  clientIdParam: string;
  credentials: ProviderClient;
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  clientAuth: oauth.ClientAuth;
  /** Transport options for every oauth4webapi request to this provider. */
  http: oauth.HttpRequestOptions<'POST', URLSearchParams>;
}

export interface ResolveOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Reads a secret of the tenant the provider is resolved for; absent for platform use. */
  tenantSecret?: (name: string) => Promise<string | undefined>;
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
  onRequest?: (url: string) => void;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export async function resolveProvider(
  manifest: OAuthProvider,
  opts: ResolveOptions,
): Promise<ResolvedProvider> {
  const credentials = await clientCredentialsOf(manifest, opts);
  const tokenUrl = expandEndpoint(manifest.tokenUrl, opts.env, manifest.id);
  const as: oauth.AuthorizationServer = {
    // The manifest names no issuer; nothing compares one (see quirks.ts on id_token).
    issuer: new URL(tokenUrl).origin,
    token_endpoint: tokenUrl,
    ...(manifest.authorizationUrl
      ? { authorization_endpoint: expandEndpoint(manifest.authorizationUrl, opts.env, manifest.id) }
      : {}),
    ...(manifest.revocationUrl
      ? { revocation_endpoint: expandEndpoint(manifest.revocationUrl, opts.env, manifest.id) }
      : {}),
  };
  const scopes = manifest.scopes ?? [];
  const clientIdParam = manifest.clientIdParam ?? 'client_id';
  return {
    id: manifest.id,
    manifest,
    grant: manifest.grant ?? 'authorization_code',
    refresh: manifest.refresh ?? 'refresh_token',
    pkce: (manifest.pkce ?? 'S256') === 'S256',
    scopes,
    scope: scopes.join(manifest.scopeSeparator ?? ' '),
    clientIdParam,
    credentials,
    as,
    client: { client_id: credentials.clientId },
    clientAuth: clientAuthOf(manifest, credentials),
    http: {
      [oauth.customFetch]: quirkFetch({
        clientIdParam,
        timeoutMs: opts.timeoutMs ?? 15_000,
        ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}),
        ...(opts.onRequest ? { onRequest: opts.onRequest } : {}),
      }),
      // Plain HTTP only to this machine (tests, a local identity server); providers are HTTPS.
      ...(isLoopbackHttp(tokenUrl) ? { [oauth.allowInsecureRequests]: true } : {}),
    },
  };
}

function clientAuthOf(manifest: OAuthProvider, credentials: ProviderClient): oauth.ClientAuth {
  if (credentials.clientSecret === undefined) return oauth.None();
  // X requires HTTP Basic at its token endpoint; most others take the form parameters.
  return manifest.tokenAuthMethod === 'basic'
    ? oauth.ClientSecretBasic(credentials.clientSecret)
    : oauth.ClientSecretPost(credentials.clientSecret);
}

/**
 * A tenant that registered its own app keeps its client id (and secret) as tenant secrets
 * under the manifest's variable names; otherwise the platform's app from the environment.
 * The two are never mixed: a tenant's id with the platform's secret would fail anyway.
 */
async function clientCredentialsOf(manifest: OAuthProvider, opts: ResolveOptions): Promise<ProviderClient> {
  const tenantId = await opts.tenantSecret?.(manifest.clientIdEnv);
  if (tenantId) {
    const secret = manifest.clientSecretEnv ? await opts.tenantSecret?.(manifest.clientSecretEnv) : undefined;
    return { clientId: tenantId, clientSecret: secret || undefined, source: 'tenant' };
  }
  const clientId = opts.env[manifest.clientIdEnv]?.trim();
  if (!clientId) {
    throw new OAuthError(
      'client',
      'not_configured',
      `${manifest.id}: set ${manifest.clientIdEnv}${manifest.clientSecretEnv ? ` and ${manifest.clientSecretEnv}` : ''} (the app registered with the provider)`,
    );
  }
  const secret = manifest.clientSecretEnv ? opts.env[manifest.clientSecretEnv]?.trim() : undefined;
  if (manifest.clientSecretEnv && !secret)
    throw new OAuthError('client', 'not_configured', `${manifest.id}: set ${manifest.clientSecretEnv}`);
  return { clientId, clientSecret: secret, source: 'platform' };
}

/**
 * Endpoint URLs may hold `$NAME` path segments, filled from the environment: Microsoft's
 * client-credentials endpoint names the directory tenant in its path
 * (`https://login.microsoftonline.com/$MS_TENANT_ID/oauth2/v2.0/token`). `$` is legal in a
 * URI path, so the manifest still validates as a URI.
 */
export function expandEndpoint(
  url: string,
  env: Readonly<Record<string, string | undefined>>,
  provider: string,
): string {
  return url.replace(/\/\$([A-Z][A-Z0-9_]*)(?=\/|$|\?)/g, (_match, name: string) => {
    const value = env[name]?.trim();
    if (!value)
      throw new OAuthError('client', 'not_configured', `${provider}: set ${name} (used in its endpoint URL)`);
    return `/${encodeURIComponent(value)}`;
  });
}

function isLoopbackHttp(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'http:' && LOOPBACK.has(u.hostname);
}
