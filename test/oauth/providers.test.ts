/**
 * The shipped provider manifests and their quirks: the RFC 7636 vector, authorization URLs as
 * each provider wants them, and token answers that depart from RFC 6749, read through the
 * same transport the engine uses (requests captured, no network).
 */
import path from 'node:path';
import * as oauth from 'oauth4webapi';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeConnectorRegistry } from '../../engine/connector-sdk/index.ts';
import { type Catalogue, loadCatalogue } from '../../engine/manifest/index.ts';
import type { OAuthProvider } from '../../engine/manifest/types.gen.ts';
import { exchangeGrant, refreshGrant } from '../../engine/oauth/grants.ts';
import { expandEndpoint, OAuthError, resolveProvider, startAuthorization } from '../../engine/oauth/index.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { createTenants, keyring } from './setup.ts';

const database = useTestDatabase();
let catalogue: Catalogue;
const ENV = {
  GOOGLE_CLIENT_ID: 'google-id',
  GOOGLE_CLIENT_SECRET: 'google-secret',
  TIKTOK_CLIENT_KEY: 'tiktok-key',
  TIKTOK_CLIENT_SECRET: 'tiktok-secret',
  META_APP_ID: 'meta-id',
  META_APP_SECRET: 'meta-secret',
  LINKEDIN_CLIENT_ID: 'li-id',
  LINKEDIN_CLIENT_SECRET: 'li-secret',
  X_CLIENT_ID: 'x-id',
  X_CLIENT_SECRET: 'x-secret',
  MS_TENANT_ID: 'contoso.onmicrosoft.com',
  MS_CLIENT_ID: 'ms-id',
  MS_CLIENT_SECRET: 'ms-secret',
};

beforeAll(async () => {
  const loaded = await loadCatalogue({
    dirs: [path.resolve(import.meta.dirname, '../../manifests/oauth')],
    connectors: makeConnectorRegistry([]),
  });
  if (!loaded.catalogue) throw new Error(JSON.stringify(loaded.errors));
  catalogue = loaded.catalogue;
  await createTenants(database.db, 'acme');
});

const manifest = (id: string): OAuthProvider => {
  const entry = catalogue.oauthProvider(id);
  if (!entry) throw new Error(`no ${id}`);
  return entry.manifest;
};

interface Captured {
  url: string;
  headers: Headers;
  form: URLSearchParams;
}

/** A transport that records the request and answers with `answer`. */
function answering(status: number, answer: unknown, seen: Captured[]): typeof fetch {
  return async (input, init) => {
    seen.push({
      url: String(input),
      headers: new Headers(init?.headers),
      form: new URLSearchParams(String(init?.body ?? '')),
    });
    return new Response(JSON.stringify(answer), { status, headers: { 'content-type': 'application/json' } });
  };
}

const now = new Date('2030-01-01T00:00:00Z');

it('computes the RFC 7636 appendix B code challenge', async () => {
  expect(await oauth.calculatePKCECodeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
    'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  );
});

it('ships google, microsoft, microsoft-app, meta, x, linkedin and tiktok', () => {
  expect(
    catalogue
      .oauthProviders()
      .map((e) => e.manifest.id)
      .sort(),
  ).toEqual(['google', 'linkedin', 'meta', 'microsoft', 'microsoft-app', 'tiktok', 'x'].sort());
  for (const entry of catalogue.oauthProviders())
    expect(JSON.stringify(entry.manifest)).not.toMatch(/secret-|-id"/);
});

describe('authorization URLs', () => {
  const deps = (env: Record<string, string>) => ({
    db: database.db,
    log: { warn() {}, info() {}, error() {}, debug() {} } as never,
    catalogue,
    keyring,
    env,
    publicUrl: 'https://atlas.example.com',
  });

  it('Google: offline access with consent, S256, space-separated scopes', async () => {
    const { url } = await startAuthorization(deps(ENV), {
      tenantId: 'acme',
      userSub: 'u',
      provider: 'google',
    });
    const q = new URL(url).searchParams;
    expect(url.startsWith('https://accounts.google.com/o/oauth2/v2/auth?')).toBe(true);
    expect(q.get('access_type')).toBe('offline');
    expect(q.get('prompt')).toBe('consent');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('scope')?.split(' ')).toContain('https://www.googleapis.com/auth/calendar.events');
    expect(q.get('redirect_uri')).toBe('https://atlas.example.com/v1/oauth/google/callback');
  });

  it('TikTok: client_key, comma-separated scopes, no PKCE', async () => {
    const { url } = await startAuthorization(deps(ENV), {
      tenantId: 'acme',
      userSub: 'u',
      provider: 'tiktok',
    });
    const q = new URL(url).searchParams;
    expect(q.get('client_key')).toBe('tiktok-key');
    expect(q.has('client_id')).toBe(false);
    expect(q.get('scope')).toBe('user.info.basic,video.upload,video.publish');
    expect(q.has('code_challenge')).toBe(false);
  });

  it('a provider whose app is not configured names the variables', async () => {
    await expect(
      startAuthorization(deps({}), { tenantId: 'acme', userSub: 'u', provider: 'x' }),
    ).rejects.toThrow(/set X_CLIENT_ID and X_CLIENT_SECRET/);
  });

  it('a tenant that keeps its own app in its secrets uses it', async () => {
    const { makeSecretStore } = await import('../../engine/secrets/store.ts');
    const secrets = makeSecretStore(database.db, keyring);
    await secrets.put('acme', 'LINKEDIN_CLIENT_ID', 'tenant-own-id');
    await secrets.put('acme', 'LINKEDIN_CLIENT_SECRET', 'tenant-own-secret');
    const { url } = await startAuthorization(deps(ENV), {
      tenantId: 'acme',
      userSub: 'u',
      provider: 'linkedin',
    });
    expect(new URL(url).searchParams.get('client_id')).toBe('tenant-own-id');
  });
});

describe('token requests and answers', () => {
  it('X: HTTP Basic client authentication, no credentials in the form', async () => {
    const seen: Captured[] = [];
    const answer = {
      access_token: 'a1',
      token_type: 'bearer',
      expires_in: 7200,
      refresh_token: 'r2',
      scope: 'tweet.read users.read',
    };
    const p = await resolveProvider(manifest('x'), { env: ENV, fetchImpl: answering(200, answer, seen) });
    const tokens = await refreshGrant(p, 'r1', now);
    // RFC 6749 section 2.3.1: id and secret are form-encoded before Base64 (`-` becomes %2D).
    expect(seen[0]!.headers.get('authorization')).toBe(
      `Basic ${Buffer.from('x%2Did:x%2Dsecret').toString('base64')}`,
    );
    expect(seen[0]!.form.has('client_secret')).toBe(false);
    expect(tokens).toMatchObject({
      accessToken: 'a1',
      refreshToken: 'r2',
      scopes: ['tweet.read', 'users.read'],
    });
    expect(tokens.expiresAt?.toISOString()).toBe('2030-01-01T02:00:00.000Z');
  });

  it('TikTok: client_key in the form, and an error answered with HTTP 200 is an error', async () => {
    const seen: Captured[] = [];
    const fail = {
      error: 'invalid_grant',
      error_description: 'Refresh token is invalid or expired.',
      log_id: 'x',
    };
    const p = await resolveProvider(manifest('tiktok'), { env: ENV, fetchImpl: answering(200, fail, seen) });
    const err = await refreshGrant(p, 'r1', now).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OAuthError);
    expect(err).toMatchObject({ kind: 'revoked', code: 'invalid_grant' });
    expect(seen[0]!.form.get('client_key')).toBe('tiktok-key');
    expect(seen[0]!.form.has('client_id')).toBe(false);
    expect(seen[0]!.form.get('client_secret')).toBe('tiktok-secret');
  });

  it('Meta: fb_exchange_token for a long-lived token; code 190 means the grant is gone', async () => {
    const seen: Captured[] = [];
    const p = await resolveProvider(manifest('meta'), {
      env: ENV,
      fetchImpl: answering(200, { access_token: 'long', token_type: 'bearer', expires_in: 5_183_944 }, seen),
    });
    const tokens = await exchangeGrant(p, 'short', now);
    expect(Object.fromEntries(seen[0]!.form)).toEqual({
      grant_type: 'fb_exchange_token',
      fb_exchange_token: 'short',
      client_id: 'meta-id',
      client_secret: 'meta-secret',
    });
    expect(tokens.accessToken).toBe('long');
    const expired = {
      error: {
        message: 'Error validating access token: Session has expired',
        type: 'OAuthException',
        code: 190,
      },
    };
    const gone = await resolveProvider(manifest('meta'), {
      env: ENV,
      fetchImpl: answering(400, expired, []),
    });
    await expect(exchangeGrant(gone, 'long', now)).rejects.toMatchObject({
      kind: 'revoked',
      code: 'invalid_grant',
    });
  });

  it('LinkedIn: an answer without token_type is accepted', async () => {
    const answer = {
      access_token: 'li-token',
      expires_in: 5_184_000,
      scope: 'openid,profile,w_member_social',
    };
    const p = await resolveProvider(manifest('linkedin'), {
      env: ENV,
      fetchImpl: answering(200, answer, []),
    });
    expect(await refreshGrant(p, 'r', now)).toMatchObject({
      accessToken: 'li-token',
      refreshToken: undefined,
      scopes: ['openid', 'profile', 'w_member_social'],
    });
  });

  it('5xx and 429 are transient; invalid_client is the platform app', async () => {
    for (const [status, body, kind] of [
      [503, { error: 'temporarily_unavailable' }, 'transient'],
      [429, { error: 'slow_down' }, 'transient'],
      [502, '<html>bad gateway</html>', 'transient'],
      [401, { error: 'invalid_client' }, 'client'],
    ] as const) {
      const p = await resolveProvider(manifest('google'), {
        env: ENV,
        fetchImpl: answering(status, body, []),
      });
      await expect(refreshGrant(p, 'r', now)).rejects.toMatchObject({ kind });
    }
  });

  it('a token answer nested past the parse limit is a clear OAuthError, not a stack overflow', async () => {
    const deep = `{"access_token":"t","token_type":"Bearer","x":${'['.repeat(8000)}${']'.repeat(8000)}}`;
    const p = await resolveProvider(manifest('google'), {
      env: ENV,
      fetchImpl: async () =>
        new Response(deep, { status: 200, headers: { 'content-type': 'application/json' } }),
    });
    const err = await refreshGrant(p, 'r', now).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OAuthError);
    expect((err as OAuthError).message).toMatch(/nested deeper than 64 levels/);
    expect((err as OAuthError).kind).toBe('invalid');
  });

  it('Microsoft client credentials: the directory tenant from the environment in the token URL', async () => {
    const seen: Captured[] = [];
    const p = await resolveProvider(manifest('microsoft-app'), {
      env: ENV,
      fetchImpl: answering(200, { access_token: 'app', token_type: 'Bearer', expires_in: 3599 }, seen),
    });
    const { clientCredentialsGrant } = await import('../../engine/oauth/grants.ts');
    expect((await clientCredentialsGrant(p, now)).accessToken).toBe('app');
    expect(seen[0]!.url).toBe('https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token');
    expect(Object.fromEntries(seen[0]!.form)).toMatchObject({
      grant_type: 'client_credentials',
      scope: 'https://graph.microsoft.com/.default',
      client_id: 'ms-id',
    });
    expect(() => expandEndpoint(manifest('microsoft-app').tokenUrl, {}, 'microsoft-app')).toThrow(
      /set MS_TENANT_ID/,
    );
  });
});
