import { createServer, type Server } from 'node:http';
import {
  exportJWK,
  exportSPKI,
  type GenerateKeyPairResult,
  generateKeyPair,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { type Api, closeServer, problemOf, SECRET, startApi } from './harness.ts';

const t = useTestDatabase();
const ISSUER = 'https://issuer.atlas.test';
const AUDIENCE = 'atlas-api';

type Key = GenerateKeyPairResult;
let rsa: Key;
let ec: Key;
let intruder: Key;
let jwks: Server;
let api: Api;

beforeAll(async () => {
  [rsa, ec, intruder] = await Promise.all([
    generateKeyPair('RS256', { extractable: true }),
    generateKeyPair('ES256', { extractable: true }),
    generateKeyPair('RS256', { extractable: true }),
  ]);
  const keys = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ];
  jwks = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/.well-known/jwks.json`;
  api = await startApi(t.db, {
    ATLAS_JWKS_URL: jwksUrl,
    ATLAS_JWT_ISSUER: ISSUER,
    ATLAS_JWT_AUDIENCE: AUDIENCE,
  });
  await t.db('tenants').insert([
    { id: 'acme', name: 'Acme' },
    { id: 'globex', name: 'Globex' },
  ]);
});
afterAll(async () => {
  await api.close();
  await closeServer(jwks);
});

const claims = (extra: JWTPayload = {}): JWTPayload => ({
  sub: 'alice',
  tenants: ['acme'],
  iss: ISSUER,
  aud: AUDIENCE,
  exp: Math.floor(Date.now() / 1000) + 300,
  ...extra,
});

function sign(
  alg: string,
  key: Key['privateKey'] | Uint8Array,
  payload: JWTPayload,
  kid?: string,
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg, ...(kid ? { kid } : {}) }).sign(key);
}

const hmac = new TextEncoder().encode(SECRET);

function unsigned(payload: JWTPayload): string {
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}

async function auditWith(token: string, tenant = 'acme'): Promise<Response> {
  return api.call('GET', '/v1/audit', { token, tenant });
}

describe('authPlugin', () => {
  it.each([
    ['RS256 from the JWKS', () => sign('RS256', rsa.privateKey, claims(), 'rsa-1')],
    ['ES256 from the JWKS', () => sign('ES256', ec.privateKey, claims(), 'ec-1')],
    ['HS256 with the shared secret', () => sign('HS256', hmac, claims())],
  ])('accepts %s', async (_name, make) => {
    expect((await auditWith(await make())).status).toBe(200);
  });

  it.each([
    ['alg none', async () => unsigned(claims())],
    [
      'HS256 keyed with the public RSA key (HS/RS confusion)',
      async () => sign('HS256', new TextEncoder().encode(await exportSPKI(rsa.publicKey)), claims()),
    ],
    ['a key not in the JWKS, under a known kid', () => sign('RS256', intruder.privateKey, claims(), 'rsa-1')],
    ['an unknown kid', () => sign('RS256', intruder.privateKey, claims(), 'other')],
    ['a wrong HMAC secret', () => sign('HS256', new TextEncoder().encode('x'.repeat(40)), claims())],
    ['an algorithm off the allow-list (HS512)', () => sign('HS512', hmac, claims())],
    ['an expired token', () => sign('HS256', hmac, claims({ exp: Math.floor(Date.now() / 1000) - 60 }))],
    [
      'a token not yet valid',
      () => sign('HS256', hmac, claims({ nbf: Math.floor(Date.now() / 1000) + 600 })),
    ],
    ['a wrong audience', () => sign('RS256', rsa.privateKey, claims({ aud: 'someone-else' }), 'rsa-1')],
    ['a wrong issuer', () => sign('HS256', hmac, claims({ iss: 'https://evil.test' }))],
    ['no exp', () => sign('HS256', hmac, { sub: 'alice', tenants: ['acme'], iss: ISSUER, aud: AUDIENCE })],
    ['no sub', () => sign('HS256', hmac, claims({ sub: undefined }))],
    ['a tenants claim that is not a list', () => sign('HS256', hmac, claims({ tenants: 'acme' }))],
    ['garbage', async () => 'not.a.jwt'],
    [
      'a tampered payload',
      async () => {
        const [h, , s] = (await sign('HS256', hmac, claims())).split('.');
        const payload = Buffer.from(JSON.stringify(claims({ tenants: ['globex'] }))).toString('base64url');
        return `${h}.${payload}.${s}`;
      },
    ],
  ])('refuses %s with 401 invalid_token', async (_name, make) => {
    const res = await auditWith(await make());
    const p = await problemOf(res);
    expect(p.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="atlas", error="invalid_token", error_description="/,
    );
  });

  it('asks for a token when none or another scheme is sent', async () => {
    const variants: Array<Record<string, string>> = [
      {},
      { authorization: 'Basic YWxpY2U6cHc=' },
      { authorization: 'Bearer' },
    ];
    for (const headers of variants) {
      const res = await api.call('GET', '/v1/audit', { tenant: 'acme', headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="atlas"');
    }
  });

  it('answers 503, not 401, when the key set cannot be fetched', async () => {
    const dead = await startApi(t.db, { ATLAS_JWKS_URL: 'http://127.0.0.1:9/jwks.json' });
    try {
      const res = await dead.call('GET', '/v1/audit', {
        tenant: 'acme',
        token: await sign('RS256', rsa.privateKey, claims(), 'rsa-1'),
      });
      expect((await problemOf(res)).status).toBe(503);
    } finally {
      await dead.close();
    }
  });
});

describe('tenantPlugin', () => {
  let token: string;
  beforeAll(async () => {
    token = await sign('HS256', hmac, claims());
  });

  it('takes the tenant from the header or the query', async () => {
    expect((await api.call('GET', '/v1/audit', { token, tenant: 'acme' })).status).toBe(200);
    expect((await api.call('GET', '/v1/audit?tenantId=acme', { token })).status).toBe(200);
  });

  it.each([
    ['no tenant', '/v1/audit', undefined, 400],
    ['an ungranted tenant', '/v1/audit', 'globex', 403],
    ['a malformed tenant id', '/v1/audit', 'ACME;drop', 400],
    ['a header and a query that disagree', '/v1/audit?tenantId=globex', 'acme', 400],
    ['a repeated query parameter', '/v1/audit?tenantId=acme&tenantId=acme', undefined, 400],
  ])('refuses %s', async (_name, path, tenant, status) => {
    const res = await api.call('GET', path, { token, ...(tenant ? { tenant } : {}) });
    expect((await problemOf(res)).status).toBe(status);
  });

  it('refuses a granted tenant that does not exist (403)', async () => {
    const ghost = await sign('HS256', hmac, claims({ tenants: ['ghost'] }));
    expect((await api.call('GET', '/v1/audit', { token: ghost, tenant: 'ghost' })).status).toBe(403);
  });
});
