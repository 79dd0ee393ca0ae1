/**
 * The reconnect notification, end to end: a tenant's Google integration is connected through
 * a real authorization server (oidc-provider); the refresh token is revoked there; five
 * concurrent calls then find the grant dead. The tenant's Telegram chat (fake) receives one
 * message, exactly once, with a single-use connect link that starts the authorization again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openToken } from '../../engine/oauth/store.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { poll } from '../helpers/poll.ts';
import { type AuthorizationServer, startAuthorizationServer } from '../oauth/authorization-server.ts';
import { connect, ENV, expireSoon, keyring, oauthDeps, PUBLIC_URL } from '../oauth/setup.ts';
import { type NotifyHarness, startNotifyHarness } from './harness.ts';

const CHAT = 777;

describe('an integration disconnected by its provider', () => {
  const database = useTestDatabase();
  let idp: AuthorizationServer;
  let h: NotifyHarness;

  beforeAll(async () => {
    idp = await startAuthorizationServer([`${PUBLIC_URL}/v1/oauth/google/callback`]);
    // Google, as an installation declares it, but served by the local authorization server.
    const google = {
      apiVersion: 'atlas/v1',
      kind: 'OAuthProvider',
      id: 'google',
      authorizationUrl: `${idp.issuer}/auth`,
      tokenUrl: `${idp.issuer}/token`,
      revocationUrl: `${idp.issuer}/token/revocation`,
      scopes: ['openid', 'offline_access', 'email'],
      authorizationParams: { prompt: 'consent' },
      tokenAuthMethod: 'post',
      clientIdEnv: 'IDP_POST_CLIENT_ID',
      clientSecretEnv: 'IDP_POST_CLIENT_SECRET',
    };
    h = await startNotifyHarness(database, {
      manifests: { 'google.json': JSON.stringify(google) },
      env: { ...ENV, ATLAS_PUBLIC_URL: PUBLIC_URL },
    });
    await h.engine.startWorker(2);
  });
  afterAll(async () => {
    await h?.stop();
    await idp?.close();
  });

  it("sends the tenant's Telegram chat one reconnect message with a working single-use link", async () => {
    expect(
      (await h.call('acme', 'PUT', '/v1/notifications', { channels: { telegram: { chatId: CHAT } } })).status,
    ).toBe(200);
    const deps = oauthDeps(database.db, idp, { catalogue: h.engine.services.catalogue });
    await connect(deps, 'acme', 'google');
    const row = await database.db('integrations').where({ tenant_id: 'acme', provider: 'google' }).first();
    expect(await idp.revoke(openToken(keyring, row, 'refresh', row.refresh_token)!, 'post')).toBe(200);
    await expireSoon(database.db, 'acme', 'google');

    // Five calls at once need a fresh token: the renewal is refused and the integration is disconnected.
    const calls = await Promise.all(
      Array.from({ length: 5 }, () => h.engine.runtime.callAction('acme', 'google.calendar.listEvents', {})),
    );
    for (const c of calls) expect(c).toMatchObject({ ok: false, failure: { kind: 'auth' } });
    expect(await database.db('integrations').where({ tenant_id: 'acme' }).first()).toMatchObject({
      status: 'disconnected',
    });

    const [text] = await poll(async () => {
      const m = await h.messages(CHAT);
      return m.length > 0 ? m : undefined;
    });
    expect(text).toContain('The google integration of acme is disconnected (invalid_grant)');
    const url = /(http:\/\/\S+\/v1\/connect\/[A-Za-z0-9_-]{43})/.exec(text!)?.[1];
    expect(url?.startsWith(`${PUBLIC_URL}/v1/connect/`)).toBe(true);

    // Later calls fail at once and make no second message.
    await h.engine.runtime.callAction('acme', 'google.calendar.listEvents', {});
    await new Promise((r) => setTimeout(r, 2500));
    expect(await h.messages(CHAT)).toHaveLength(1);
    const jobs = await database.db('jobs').where({ tenant_id: 'acme', actor: 'atlas:notify' });
    expect(jobs).toEqual([expect.objectContaining({ type: 'TELEGRAM_SEND', status: 'succeeded' })]);

    // The link starts the authorization at the provider, once.
    const link = url!.replace(PUBLIC_URL, h.base);
    const opened = await fetch(link, { redirect: 'manual' });
    expect(opened.status).toBe(303);
    expect(opened.headers.get('location')).toContain(`${idp.issuer}/auth`);
    const again = await fetch(link, { redirect: 'manual' });
    expect(again.status).toBeGreaterThanOrEqual(400);
  });
});
