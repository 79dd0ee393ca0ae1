/**
 * The authorization code flow through the real API and a real authorization server:
 * `GET /v1/oauth/{provider}/authorize` (JWT and tenant) → the provider's login and consent →
 * `GET /v1/oauth/{provider}/callback` → tokens stored encrypted → the success URL; and every
 * way it can go wrong ending in a clear status, never a 500.
 */
import { createHash } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encrypt } from '../../engine/crypto/index.ts';
import { makeTokenSource } from '../../engine/oauth/index.ts';
import { openToken } from '../../engine/oauth/store.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { Browser, type OAuthApi, startOAuthApi } from './api.ts';
import { type AuthorizationServer, authorizeThroughBrowser } from './authorization-server.ts';
import { runWhoami } from './connector.ts';
import { createTenants, ENV, expireSoon, keyring, oauthDeps } from './setup.ts';

const SUCCESS = 'http://127.0.0.1:9/connected';
const FAILURE = 'http://127.0.0.1:9/failed';

const database = useTestDatabase();
let server: OAuthApi;
let idp: AuthorizationServer;
let api = '';
/** The user's browser: it calls the authorize route itself, so it holds the binding cookies. */
const browser = new Browser();

beforeAll(async () => {
  server = await startOAuthApi(database.db, {
    ATLAS_OAUTH_SUCCESS_URL: SUCCESS,
    ATLAS_OAUTH_ERROR_URL: FAILURE,
  });
  api = server.url;
  idp = server.idp;
  await createTenants(database.db, 'acme', 'globex');
});

afterAll(async () => {
  await server.close();
});

const bearer = (tenants = ['acme'], sub = 'user-1') => server.bearer(tenants, sub);

async function authorize(provider = 'idp-post', tenant = 'acme'): Promise<string> {
  const res = await browser.get(`${api}/v1/oauth/${provider}/authorize`, {
    authorization: `Bearer ${await bearer()}`,
    'x-tenant-id': tenant,
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { url: string }).url;
}

/** The browser's visit to Atlas' callback: where Atlas sends it next. */
async function callback(url: URL): Promise<URL> {
  const res = await browser.get(url);
  await res.arrayBuffer();
  expect(res.status).toBe(303);
  return new URL(res.headers.get('location') ?? '');
}

const redirectUri = (provider: string) => `${api}/v1/oauth/${provider}/callback`;
const stateHash = (url: string) =>
  createHash('sha256')
    .update(new URL(url).searchParams.get('state') ?? '')
    .digest('hex');

describe('authorize → callback', () => {
  it('connects, stores the tokens encrypted, and a connector calls with a refreshed token', async () => {
    const url = await authorize();
    const params = new URL(url).searchParams;
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('redirect_uri')).toBe(redirectUri('idp-post'));
    // The state row keeps the verifier encrypted, and it is the challenge's preimage.
    const row = await database
      .db('oauth_states')
      .where({ state_hash: stateHash(url) })
      .first();
    expect(row).toMatchObject({ tenant_id: 'acme', user_sub: 'user-1', provider: 'idp-post' });
    expect(row.code_verifier).toMatch(/^v1:/);
    const { decrypt } = await import('../../engine/crypto/index.ts');
    const verifier = decrypt(row.code_verifier, keyring, `oauth_states:${row.state_hash}`);
    expect(await oauth.calculatePKCECodeChallenge(verifier)).toBe(params.get('code_challenge'));

    // The JSON answer bound the state to this browser: an HttpOnly, SameSite=Lax cookie that
    // only the callback's path receives; the callback spends it.
    const cookies = [...browser.cookies()].filter(([name]) => name.startsWith('atlas_oauth_'));
    expect(cookies).toEqual([
      [
        expect.any(String),
        expect.objectContaining({ path: '/v1/oauth/idp-post/callback', httpOnly: true, sameSite: 'lax' }),
      ],
    ]);
    expect(url).not.toContain(cookies[0]![1].value);
    const next = await callback(await authorizeThroughBrowser(url, redirectUri('idp-post')));
    expect(`${next.origin}${next.pathname}`).toBe(SUCCESS);
    expect(browser.cookies().has(cookies[0]![0])).toBe(false);
    expect(next.searchParams.get('provider')).toBe('idp-post');

    const list = await fetch(`${api}/v1/integrations`, {
      headers: { authorization: `Bearer ${await bearer()}`, 'x-tenant-id': 'acme' },
    });
    const { items } = (await list.json()) as { items: Array<Record<string, unknown>> };
    expect(items).toEqual([
      expect.objectContaining({
        id: next.searchParams.get('integration'),
        provider: 'idp-post',
        account: 'ada',
        status: 'connected',
      }),
    ]);
    expect(JSON.stringify(items)).not.toMatch(/token/i);

    const tokens = makeTokenSource(oauthDeps(database.db, idp, { publicUrl: api }));
    await expireSoon(database.db, 'acme');
    const before = idp.count('/token');
    expect(await runWhoami(idp.issuer, tokens, 'acme')).toMatchObject({ sub: 'ada' });
    expect(idp.count('/token')).toBe(before + 1);
    const audit = await database.db('audit_log').where({ tenant_id: 'acme', action: 'integrations.connect' });
    expect(audit).toEqual([
      expect.objectContaining({ actor: 'user-1', result: 'ok', entity_id: items[0]!.id }),
    ]);
  });

  it('stores no token in plaintext in any table', async () => {
    const rows = await database.db('integrations').select('*');
    const secrets = rows.flatMap((r) => [
      openToken(keyring, r, 'access', r.access_token),
      openToken(keyring, r, 'refresh', r.refresh_token),
    ]);
    expect(secrets.filter(Boolean).length).toBeGreaterThanOrEqual(2);
    const { rows: tables } = await database.db.raw<{ rows: Array<{ name: string }> }>(
      `select schemaname || '.' || tablename as name from pg_tables where schemaname not in ('pg_catalog', 'information_schema')`,
    );
    for (const { name } of tables) {
      const dump = JSON.stringify(await database.db.raw(`select t::text from ${name} t`));
      for (const secret of secrets) if (secret) expect(dump, name).not.toContain(secret);
    }
  });

  it('answers JSON or a 302 to the provider, and refuses a token without the tenant', async () => {
    const redirect = await fetch(`${api}/v1/oauth/idp-basic/authorize?redirect=true`, {
      headers: { authorization: `Bearer ${await bearer()}`, 'x-tenant-id': 'acme' },
      redirect: 'manual',
    });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('set-cookie')).toMatch(
      /^atlas_oauth_\w+=[\w-]{43}; Max-Age=600; Path=\/v1\/oauth\/idp-basic\/callback; HttpOnly; SameSite=Lax$/,
    );
    expect(redirect.headers.get('location')).toMatch(new RegExp(`^${idp.issuer}/auth\\?`));
    const other = await fetch(`${api}/v1/oauth/idp-basic/authorize`, {
      headers: { authorization: `Bearer ${await bearer(['globex'])}`, 'x-tenant-id': 'acme' },
    });
    expect(other.status).toBe(403);
    const unknown = await fetch(`${api}/v1/oauth/nowhere/authorize`, {
      headers: { authorization: `Bearer ${await bearer()}`, 'x-tenant-id': 'acme' },
    });
    expect(unknown.status).toBe(404);
  });
});

describe('callback failures end at the error URL with a reason', () => {
  it('a replayed state', async () => {
    const back = await authorizeThroughBrowser(await authorize('idp-basic'), redirectUri('idp-basic'));
    expect((await callback(back)).pathname).toBe('/connected');
    const replay = await callback(back);
    expect(replay.pathname).toBe('/failed');
    expect(replay.searchParams.get('error')).toBe('invalid_state');
  });

  it('an expired state', async () => {
    const url = await authorize();
    const back = await authorizeThroughBrowser(url, redirectUri('idp-post'));
    await database
      .db('oauth_states')
      .where({ state_hash: stateHash(url) })
      .update({ expires_at: new Date(Date.now() - 1000) });
    const next = await callback(back);
    expect(next.searchParams.get('error')).toBe('expired_state');
  });

  it('a state minted for another provider', async () => {
    const url = await authorize('idp-post');
    const back = await authorizeThroughBrowser(url, redirectUri('idp-post'));
    const moved = new URL(back.href.replace('/idp-post/', '/idp-basic/'));
    // The binding cookie belongs to idp-post's callback path: elsewhere it is not sent.
    expect((await callback(moved)).searchParams.get('error')).toBe('browser_mismatch');
    const name = `atlas_oauth_${stateHash(url).slice(0, 16)}`;
    browser.set(name, browser.cookies().get(name)!.value, '/v1/oauth/idp-basic/callback');
    expect((await callback(moved)).searchParams.get('error')).toBe('invalid_state');
    expect((await callback(back)).searchParams.get('error')).toBe('invalid_state');
  });

  it('a wrong PKCE verifier: the provider refuses the code', async () => {
    const url = await authorize();
    const back = await authorizeThroughBrowser(url, redirectUri('idp-post'));
    const hash = stateHash(url);
    const wrong = oauth.generateRandomCodeVerifier();
    await database
      .db('oauth_states')
      .where({ state_hash: hash })
      .update({ code_verifier: encrypt(wrong, keyring, `oauth_states:${hash}`) });
    const next = await callback(back);
    expect(next.pathname).toBe('/failed');
    expect(next.searchParams.get('error')).toBe('invalid_grant');
  });

  it('the user denies access at the provider', async () => {
    const back = await authorizeThroughBrowser(await authorize(), redirectUri('idp-post'), { deny: true });
    expect(back.searchParams.get('error')).toBe('access_denied');
    const next = await callback(back);
    expect(next.searchParams.get('error')).toBe('access_denied');
    const audit = await database
      .db('audit_log')
      .where({ tenant_id: 'acme', action: 'integrations.connect', result: 'error' });
    expect(audit.map((a) => a.status)).toContain(403);
  });

  it('a callback without a state, or with a forged one', async () => {
    for (const query of ['code=abc', 'code=abc&state=forged']) {
      const next = await callback(new URL(`${redirectUri('idp-post')}?${query}`));
      expect(next.searchParams.get('error')).toBe('invalid_state');
    }
  });
});

describe('DELETE /v1/integrations/{id}', () => {
  it('revokes the grant at the provider, then deletes the tokens', async () => {
    const headers = { authorization: `Bearer ${await bearer()}`, 'x-tenant-id': 'acme' };
    const row = await database.db('integrations').where({ tenant_id: 'acme', provider: 'idp-basic' }).first();
    const refresh = openToken(keyring, row, 'refresh', row.refresh_token)!;
    const revocations = idp.count('/token/revocation');
    const res = await fetch(`${api}/v1/integrations/${row.id}`, { method: 'DELETE', headers });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: row.id, provider: 'idp-basic', revocation: 'revoked' });
    expect(idp.count('/token/revocation')).toBe(revocations + 1);
    expect(await database.db('integrations').where({ id: row.id }).first()).toBeUndefined();
    const basic = Buffer.from(`${ENV.IDP_BASIC_CLIENT_ID}:${ENV.IDP_BASIC_CLIENT_SECRET}`).toString('base64');
    const dead = await fetch(`${idp.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh }),
    });
    expect(await dead.json()).toMatchObject({ error: 'invalid_grant' });
    const again = await fetch(`${api}/v1/integrations/${row.id}`, { method: 'DELETE', headers });
    expect(again.status).toBe(404);
    const audit = await database.db('audit_log').where({ action: 'integrations.delete' }).orderBy('id');
    expect(audit).toEqual([
      expect.objectContaining({ entity_id: row.id, result: 'ok', status: 200 }),
      expect.objectContaining({ entity_id: row.id, result: 'error', status: 404 }),
    ]);
    expect(audit[0].summary).toMatchObject({ provider: 'idp-basic', revocation: 'revoked' });
  });

  it("another tenant's integration is not found", async () => {
    const row = await database.db('integrations').where({ tenant_id: 'acme', provider: 'idp-post' }).first();
    const res = await fetch(`${api}/v1/integrations/${row.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await bearer(['globex'])}`, 'x-tenant-id': 'globex' },
    });
    expect(res.status).toBe(404);
  });
});
