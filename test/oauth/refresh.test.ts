/**
 * Token renewal against a real authorization server (oidc-provider with refresh-token
 * rotation): renewal ahead of expiry, one renewal across workers, rotation stored atomically,
 * a revoked grant that disconnects, a 401 that forces one refresh, transient failures, and the
 * shared client-credentials cache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../engine/connector-sdk/index.ts';
import { makeDb } from '../../engine/db/knex.ts';
import { makeTokenSource } from '../../engine/oauth/index.ts';
import { openToken, sealToken } from '../../engine/oauth/store.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { type AuthorizationServer, CLIENTS, startAuthorizationServer } from './authorization-server.ts';
import { runWhoami } from './connector.ts';
import {
  connect,
  createTenants,
  ENV,
  expireSoon,
  keyring,
  oauthDeps,
  PUBLIC_URL,
  redirectUris,
} from './setup.ts';

const database = useTestDatabase();
let idp: AuthorizationServer;

beforeAll(async () => {
  idp = await startAuthorizationServer(redirectUris(PUBLIC_URL));
  await createTenants(database.db, 'acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark');
});
afterAll(() => idp.close());

async function storedRow(tenantId: string, provider = 'idp-post') {
  const row = await database.db('integrations').where({ tenant_id: tenantId, provider }).first();
  return {
    ...row,
    access: openToken(keyring, row, 'access', row.access_token),
    refresh: openToken(keyring, row, 'refresh', row.refresh_token),
  };
}

describe('renewal', () => {
  it('renews a token expiring within 5 minutes, and the connector calls with the new one', async () => {
    const deps = oauthDeps(database.db, idp);
    await connect(deps, 'acme');
    const tokens = makeTokenSource(deps);
    const before = await storedRow('acme');
    expect(await runWhoami(idp.issuer, tokens, 'acme')).toEqual({ sub: 'ada', email: 'ada@example.com' });
    expect(idp.count('/token')).toBe(1);

    await expireSoon(database.db, 'acme', 'idp-post', 4 * 60_000);
    const calls = idp.count('/token');
    expect(await runWhoami(idp.issuer, tokens, 'acme')).toMatchObject({ sub: 'ada' });
    expect(idp.count('/token')).toBe(calls + 1);
    const after = await storedRow('acme');
    expect(after.access).not.toBe(before.access);
    // Rotation: the new refresh token replaced the old one in the same write.
    expect(after.refresh).toBeDefined();
    expect(after.refresh).not.toBe(before.refresh);
    expect(after.version).toBe(before.version + 1);
    expect(after.expires_at.getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
  });

  it('does not renew a token with more than 5 minutes left', async () => {
    const deps = oauthDeps(database.db, idp);
    await connect(deps, 'globex');
    await expireSoon(database.db, 'globex', 'idp-post', 6 * 60_000);
    const calls = idp.count('/token');
    const token = await makeTokenSource(deps).accessToken('globex', 'idp-post');
    expect(token).toBe((await storedRow('globex')).access);
    expect(idp.count('/token')).toBe(calls);
  });

  it('20 concurrent requests on 4 workers cause exactly one token request', async () => {
    await connect(oauthDeps(database.db, idp), 'initech', 'idp-basic');
    await expireSoon(database.db, 'initech', 'idp-basic');
    // Four workers: each its own pool and token source, as separate processes would have.
    const pools = Array.from({ length: 4 }, () => makeDb(database.url, { poolSize: 3 }));
    try {
      const sources = pools.map((db) => makeTokenSource(oauthDeps(db, idp)));
      const calls = idp.count('/token');
      const tokens = await Promise.all(
        Array.from({ length: 20 }, (_, i) => sources[i % 4]!.accessToken('initech', 'idp-basic')),
      );
      expect(idp.count('/token') - calls).toBe(1);
      expect(new Set(tokens).size).toBe(1);
      expect(tokens[0]).toBe((await storedRow('initech', 'idp-basic')).access);
    } finally {
      await Promise.all(pools.map((db) => db.destroy()));
    }
  });
});

describe('a grant that ends', () => {
  it('a reused (rotated-away) refresh token is refused, and the provider revokes the grant', async () => {
    const deps = oauthDeps(database.db, idp);
    await connect(deps, 'umbrella');
    const old = (await storedRow('umbrella')).refresh!;
    await expireSoon(database.db, 'umbrella');
    await makeTokenSource(deps).accessToken('umbrella', 'idp-post');
    expect((await storedRow('umbrella')).refresh).not.toBe(old);

    // Replaying the old refresh token, as a stolen copy would be, is refused...
    const replay = await fetch(`${idp.issuer}/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: old,
        client_id: CLIENTS.post.id,
        client_secret: CLIENTS.post.secret,
      }),
    });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
    // ...and kills the grant, so Atlas' next renewal finds it revoked.
    await expireSoon(database.db, 'umbrella');
    const err = await makeTokenSource(deps)
      .accessToken('umbrella', 'idp-post')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ kind: 'auth', code: 'reauthorize' });
    expect((await storedRow('umbrella')).status).toBe('disconnected');
  });

  it('a revoked grant disconnects the integration, audits it, and fails every waiting step', async () => {
    const deps = oauthDeps(database.db, idp);
    const id = await connect(deps, 'hooli');
    expect(await idp.revoke((await storedRow('hooli')).refresh!, 'post')).toBe(200);
    await expireSoon(database.db, 'hooli');
    const tokens = makeTokenSource(deps);
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => tokens.accessToken('hooli', 'idp-post')),
    );
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const reason = (r as PromiseRejectedResult).reason as ConnectorError;
      expect(reason.kind).toBe('auth');
      expect(reason.message).toContain('re-authorize');
    }
    const row = await storedRow('hooli');
    expect(row).toMatchObject({
      status: 'disconnected',
      status_reason: 'invalid_grant',
      access_token: null,
      refresh_token: null,
    });
    const audit = await database
      .db('audit_log')
      .where({ tenant_id: 'hooli', action: 'integrations.disconnect' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ entity_id: id, actor: 'engine', result: 'error' });
    // Later steps fail at once, without asking the provider again.
    const calls = idp.count('/token');
    await expect(tokens.accessToken('hooli', 'idp-post')).rejects.toMatchObject({
      kind: 'auth',
      code: 'reauthorize',
    });
    expect(idp.count('/token')).toBe(calls);
  });
});

describe('forced refresh and failures', () => {
  it('a 401 from the provider forces one refresh and one retry', async () => {
    const deps = oauthDeps(database.db, idp);
    await connect(deps, 'stark');
    // The provider stops accepting the access token though its expiry is an hour away (as
    // after a password change). Revoking it at oidc-provider would end the whole grant, so
    // the stored token is swapped for one the provider never issued.
    const stale = 'an-access-token-the-provider-no-longer-accepts';
    await database
      .db('integrations')
      .where({ tenant_id: 'stark' })
      .update({
        access_token: sealToken(keyring, { tenant_id: 'stark', provider: 'idp-post' }, 'access', stale),
      });
    const calls = idp.count('/token');
    const me = await runWhoami(idp.issuer, makeTokenSource(deps), 'stark');
    expect(me).toMatchObject({ sub: 'ada' });
    expect(idp.count('/token')).toBe(calls + 1);
    expect(idp.count('/me', 'GET')).toBeGreaterThanOrEqual(2);
    expect((await storedRow('stark')).access).not.toBe(stale);
  });

  it('an unreachable token endpoint is retryable and changes nothing', async () => {
    const deps = oauthDeps(database.db, idp, { timeoutMs: 2000 });
    await connect(deps, 'acme', 'idp-basic');
    await expireSoon(database.db, 'acme', 'idp-basic');
    const before = await storedRow('acme', 'idp-basic');
    const broken = oauthDeps(database.db, idp, {
      fetchImpl: () => Promise.reject(new TypeError('fetch failed: connect ECONNREFUSED')),
    });
    const err = await makeTokenSource(broken)
      .accessToken('acme', 'idp-basic')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ kind: 'retryable', code: 'network_error' });
    const after = await storedRow('acme', 'idp-basic');
    expect(after).toMatchObject({
      status: 'connected',
      version: before.version,
      access: before.access,
      refresh: before.refresh,
    });
  });

  it('a tenant without the integration gets an auth error naming the authorize route', async () => {
    const deps = oauthDeps(database.db, idp);
    await expect(makeTokenSource(deps).accessToken('globex', 'idp-basic')).rejects.toMatchObject({
      kind: 'auth',
      code: 'not_connected',
      message: expect.stringContaining('/v1/oauth/idp-basic/authorize'),
    });
  });
});

describe('client credentials', () => {
  it('one token request for 10 concurrent callers on 2 workers, cached and encrypted', async () => {
    const pools = [makeDb(database.url, { poolSize: 3 }), makeDb(database.url, { poolSize: 3 })];
    try {
      const sources = pools.map((db) => makeTokenSource(oauthDeps(db, idp)));
      const calls = idp.count('/token');
      const tokens = await Promise.all(
        Array.from({ length: 10 }, (_, i) => sources[i % 2]!.accessToken(`t${i}`, 'idp-app')),
      );
      expect(new Set(tokens).size).toBe(1);
      expect(idp.count('/token') - calls).toBe(1);
      await sources[0]!.accessToken('acme', 'idp-app');
      expect(idp.count('/token') - calls).toBe(1);
      // Forced (after a 401): a new token, stored for everyone.
      const renewed = await sources[1]!.accessToken('acme', 'idp-app', { forceRefresh: true });
      expect(renewed).not.toBe(tokens[0]);
      expect(idp.count('/token') - calls).toBe(2);
      expect(await sources[0]!.accessToken('acme', 'idp-app')).toBe(renewed);
      const rows = await database.db('oauth_app_tokens').select('access_token');
      expect(rows).toHaveLength(1);
      expect(rows[0].access_token).toMatch(/^v1:/);
      expect(rows[0].access_token).not.toContain(renewed);
    } finally {
      await Promise.all(pools.map((db) => db.destroy()));
    }
  });

  it('a wrong client secret is an auth error that names the variables', async () => {
    const deps = oauthDeps(database.db, idp, { env: { ...ENV, IDP_POST_CLIENT_SECRET: 'wrong-secret' } });
    await expect(makeTokenSource(deps).accessToken('acme', 'idp-app')).rejects.toMatchObject({
      kind: 'auth',
      code: 'invalid_client',
      message: expect.stringContaining('IDP_POST_CLIENT_ID'),
    });
  });
});
