/**
 * The state is bound to the browser that started the authorization (RFC 9700 section 4.7):
 * whoever opens an authorize URL minted for another browser and consents at the provider
 * connects nothing. Connect links start an authorization in the browser that opens them, once,
 * for a few minutes. Through the real API and a real authorization server (oidc-provider),
 * without success and error URLs: the callback answers JSON or problem+json.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintConnectLink, startAuthorization } from '../../engine/oauth/index.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { Browser, type OAuthApi, startOAuthApi } from './api.ts';
import { authorizeThroughBrowser } from './authorization-server.ts';
import { createTenants, oauthDeps } from './setup.ts';

const database = useTestDatabase();
let server: OAuthApi;

beforeAll(async () => {
  server = await startOAuthApi(database.db);
  await createTenants(database.db, 'acme', 'globex');
});

afterAll(async () => {
  await server.close();
});

const redirectUri = (provider: string) => `${server.url}/v1/oauth/${provider}/callback`;
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

async function headers(tenant = 'acme', sub = 'user-1') {
  return { authorization: `Bearer ${await server.bearer([tenant], sub)}`, 'x-tenant-id': tenant };
}

/** The victim's own client (a page on Atlas' site) asks for the authorize URL from its browser. */
async function authorizeIn(browser: Browser, provider = 'idp-post', tenant = 'acme'): Promise<string> {
  const res = await browser.get(`${server.url}/v1/oauth/${provider}/authorize`, await headers(tenant));
  expect(res.status).toBe(200);
  return ((await res.json()) as { url: string }).url;
}

async function problemOf(res: Response) {
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  return (await res.json()) as { status: number; error: string; detail: string };
}

async function integrations(tenant: string) {
  return database
    .db('integrations')
    .where({ tenant_id: tenant })
    .select('provider', 'account', 'connected_by');
}

describe('an authorization bound to the browser that started it', () => {
  it('refuses the callback in another browser: nothing is connected, nothing is exchanged', async () => {
    const victim = new Browser();
    const url = await authorizeIn(victim);
    const state = new URL(url).searchParams.get('state')!;

    // The attacker got hold of the URL, consents with their own account, and completes the
    // callback from their browser: first without a cookie, then with a forged one under the
    // right name (it is derived from the state, which the attacker knows).
    const attacker = new Browser();
    const back = await authorizeThroughBrowser(url, redirectUri('idp-post'), { login: 'mallory' });
    const tokenRequests = server.idp.count('/token');
    const [name] = [...victim.cookies().keys()];
    for (const forged of [undefined, 'A'.repeat(43)]) {
      if (forged) attacker.set(name!, forged, '/v1/oauth/idp-post/callback');
      const res = await attacker.get(back);
      expect(res.status).toBe(403);
      expect(await problemOf(res)).toMatchObject({ status: 403, error: 'browser_mismatch' });
    }
    expect(server.idp.count('/token')).toBe(tokenRequests);
    expect(await integrations('acme')).toEqual([]);
    const refused = await database
      .db('audit_log')
      .where({ tenant_id: 'acme', action: 'integrations.connect', result: 'error' });
    expect(refused).toEqual([
      expect.objectContaining({ status: 403, actor: 'user-1' }),
      expect.objectContaining({ status: 403, actor: 'user-1' }),
    ]);
    expect(refused[0].summary).toMatchObject({ provider: 'idp-post', error: 'browser_mismatch' });

    // The refusals did not spend the state: the victim's own browser still finishes.
    const own = await authorizeThroughBrowser(url, redirectUri('idp-post'), { login: 'ada' });
    expect(own.searchParams.get('state')).toBe(state);
    const done = await victim.get(own);
    expect(done.status).toBe(200);
    expect(((await done.json()) as { integration: { account: string } }).integration.account).toBe('ada');
    expect(await integrations('acme')).toEqual([
      { provider: 'idp-post', account: 'ada', connected_by: 'user-1' },
    ]);
  });

  it("refuses one browser's cookie for another flow's state", async () => {
    const victim = new Browser();
    const url = await authorizeIn(victim, 'idp-basic', 'acme');
    const attacker = new Browser();
    await authorizeIn(attacker, 'idp-basic', 'acme');
    const [victimName] = [...victim.cookies().keys()];
    const [attackerCookie] = [...attacker.cookies().values()];
    attacker.set(victimName!, attackerCookie!.value, attackerCookie!.path);
    const back = await authorizeThroughBrowser(url, redirectUri('idp-basic'), { login: 'mallory' });
    const res = await attacker.get(back);
    expect(await problemOf(res)).toMatchObject({ status: 403, error: 'browser_mismatch' });
    expect(await database.db('integrations').where({ provider: 'idp-basic' })).toEqual([]);
  });

  it('binds with a Secure cookie when the public URL is https', async () => {
    const deps = oauthDeps(database.db, server.idp, { publicUrl: 'https://atlas.example.com/base' });
    const start = await startAuthorization(deps, {
      tenantId: 'acme',
      userSub: 'user-1',
      provider: 'idp-post',
    });
    expect(start.binding).toMatchObject({ path: '/base/v1/oauth/idp-post/callback', secure: true });
    expect(start.binding.value).toMatch(/^[\w-]{43}$/);
    expect(start.url).not.toContain(start.binding.value);
    const [row] = await database
      .db('oauth_states')
      .where({ redirect_uri: 'https://atlas.example.com/base/v1/oauth/idp-post/callback' });
    expect(row.binding_hash).toBe(sha256(start.binding.value));
  });
});

describe('connect links', () => {
  async function mint(provider = 'idp-post', tenant = 'acme', body?: object) {
    return fetch(`${server.url}/v1/oauth/${provider}/connect-links`, {
      method: 'POST',
      headers: { ...(await headers(tenant)), 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  }

  it('connects through a browser that carries no token, once', async () => {
    const res = await mint('idp-basic', 'globex', { ttlSeconds: 300 });
    expect(res.status).toBe(201);
    const link = (await res.json()) as { url: string; expiresAt: string };
    expect(link.url).toMatch(new RegExp(`^${server.url}/v1/connect/[A-Za-z0-9_-]{43}$`));
    const expiresIn = new Date(link.expiresAt).getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(290_000);
    expect(expiresIn).toBeLessThanOrEqual(300_000);
    // Only the hash is stored; the audit entry names the link, never its token.
    const token = link.url.split('/').pop()!;
    const [row] = await database.db('oauth_connect_links').where({ tenant_id: 'globex' });
    expect(row).toMatchObject({ token_hash: sha256(token), provider: 'idp-basic', user_sub: 'user-1' });
    const [audit] = await database
      .db('audit_log')
      .where({ tenant_id: 'globex', action: 'integrations.link' });
    expect(audit).toMatchObject({ entity_id: row.id, result: 'ok', status: 201, actor: 'user-1' });
    expect(JSON.stringify(audit)).not.toContain(token);

    const browser = new Browser();
    const opened = await browser.get(link.url);
    expect(opened.status).toBe(303);
    expect(opened.headers.get('cache-control')).toBe('no-store');
    expect(opened.headers.get('referrer-policy')).toBe('no-referrer');
    const authorizeUrl = opened.headers.get('location')!;
    expect(authorizeUrl).toMatch(new RegExp(`^${server.idp.issuer}/auth\\?`));
    expect([...browser.cookies().values()]).toEqual([
      expect.objectContaining({ path: '/v1/oauth/idp-basic/callback', httpOnly: true, sameSite: 'lax' }),
    ]);
    const back = await authorizeThroughBrowser(authorizeUrl, redirectUri('idp-basic'), { login: 'grace' });
    const done = await browser.get(back);
    expect(done.status).toBe(200);
    expect(await integrations('globex')).toEqual([
      { provider: 'idp-basic', account: 'grace', connected_by: 'user-1' },
    ]);

    const again = await new Browser().get(link.url);
    expect(again.status).toBe(404);
    expect(await problemOf(again)).toMatchObject({ error: 'invalid_link' });
    expect(await database.db('oauth_connect_links').where({ id: row.id })).toEqual([]);
  });

  it('refuses an expired link, and starts nothing', async () => {
    const res = await mint();
    const { url } = (await res.json()) as { url: string };
    const token = url.split('/').pop()!;
    await database
      .db('oauth_connect_links')
      .where({ token_hash: sha256(token) })
      .update({ expires_at: new Date(Date.now() - 1000) });
    const states = await database.db('oauth_states').count<[{ count: string }]>('* as count');
    const browser = new Browser();
    const opened = await browser.get(url);
    expect(opened.status).toBe(410);
    expect(await problemOf(opened)).toMatchObject({ error: 'expired_link' });
    expect(browser.cookies().size).toBe(0);
    expect(await database.db('oauth_states').count<[{ count: string }]>('* as count')).toEqual(states);
  });

  it('is minted for a tenant the token grants, for a provider a user can authorize', async () => {
    const otherTenant = await fetch(`${server.url}/v1/oauth/idp-post/connect-links`, {
      method: 'POST',
      headers: { ...(await headers('globex')), 'x-tenant-id': 'acme' },
    });
    expect(otherTenant.status).toBe(403);
    expect((await mint('nowhere')).status).toBe(404);
    expect((await mint('idp-app')).status).toBe(409);
    const tooLong = await mint('idp-post', 'acme', { ttlSeconds: 86_400 });
    expect(tooLong.status).toBe(422);
    const unknown = await new Browser().get(`${server.url}/v1/connect/${'x'.repeat(43)}`);
    expect(await problemOf(unknown)).toMatchObject({ status: 404, error: 'invalid_link' });
    const malformed = await new Browser().get(`${server.url}/v1/connect/short`);
    expect(malformed.status).toBe(404);
  });

  it('is one function for other callers: a hashed, single-use row for tenant and provider', async () => {
    const deps = oauthDeps(database.db, server.idp, { publicUrl: server.url });
    const link = await mintConnectLink(deps, {
      tenantId: 'acme',
      provider: 'idp-post',
      userSub: 'notifier',
      ttlMs: 120_000,
    });
    expect(link.url.startsWith(`${server.url}/v1/connect/`)).toBe(true);
    const [row] = await database.db('oauth_connect_links').where({ id: link.id });
    expect(row).toMatchObject({ tenant_id: 'acme', user_sub: 'notifier' });
    expect(row.token_hash).toBe(sha256(link.url.split('/').pop()!));
    await expect(
      mintConnectLink(deps, { tenantId: 'acme', provider: 'idp-post', userSub: 'x', ttlMs: 2 * 3_600_000 }),
    ).rejects.toThrow(/between 1 and 60 minutes/);
  });
});
