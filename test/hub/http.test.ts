import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAuditSink } from '../../engine/audit/entry.ts';
import { makeRedactor } from '../../engine/audit/redact.ts';
import { ConnectorError } from '../../engine/connector-sdk/index.ts';
import { type HttpClientOptions, makeHttpClient } from '../../engine/hub/http.ts';
import { MemoryRateLimiter } from '../../engine/hub/rate-limit.ts';
import { parseAllowlist } from '../../engine/hub/ssrf.ts';
import { type FakeServer, hostile, json, startFake } from '../fakes/server.ts';

let fake: FakeServer;
beforeAll(async () => {
  fake = await startFake((req) => json(200, { path: req.path, query: Object.fromEntries(req.query) }));
});
afterAll(() => fake.close());

function client(extra: Partial<HttpClientOptions> = {}) {
  const audit = new MemoryAuditSink();
  const http = makeHttpClient({
    tenantId: 't1',
    connectorId: 'demo',
    actionId: 'doThing',
    runId: 'r1',
    stepId: 's1',
    baseUrl: `${fake.url}/v1.0`,
    signal: AbortSignal.timeout(5000),
    audit,
    ...extra,
  });
  return { http, audit };
}

async function caught(promise: Promise<unknown>): Promise<ConnectorError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectorError);
  return err as ConnectorError;
}

describe('makeHttpClient.request', () => {
  it('joins the base URL path, adds the query, and audits the call', async () => {
    const { http, audit } = client();
    const res = await http.request({ url: '/me/messages', query: { top: 5, skip: undefined } });
    expect(res.json()).toEqual({ path: '/v1.0/me/messages', query: { top: '5' } });
    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]).toMatchObject({
      tenantId: 't1',
      runId: 'r1',
      stepId: 's1',
      connectorId: 'demo',
      actionId: 'doThing',
      method: 'GET',
      path: '/v1.0/me/messages',
      status: 200,
    });
  });

  it('sends JSON with its content type', async () => {
    const { http } = client();
    await http.request({ method: 'POST', url: '/things', json: { a: 1 } });
    const last = fake.requests.at(-1)!;
    expect(last.header('content-type')).toBe('application/json');
    expect(last.json()).toEqual({ a: 1 });
  });

  it.each([
    [408, 'retryable', 'timeout'],
    [425, 'retryable', 'provider_rejected'],
    [429, 'retryable', 'rate_limited'],
    [500, 'retryable', 'provider_unavailable'],
    [503, 'retryable', 'provider_unavailable'],
    [401, 'auth', 'unauthorized'],
    [403, 'fatal', 'forbidden'],
    [404, 'fatal', 'not_found'],
    [422, 'fatal', 'provider_rejected'],
  ])('maps HTTP %i to %s', async (status, kind, code) => {
    fake.enqueue(json(status, { error: { message: 'nope' } }));
    const err = await caught(client().http.request({ url: '/x' }));
    expect(err).toMatchObject({ kind, code, status });
    expect(err.message).toContain('nope');
  });

  it('parses Retry-After seconds and HTTP dates, and clamps them', async () => {
    fake.enqueue(json(429, {}, { 'retry-after': '7' }));
    expect((await caught(client().http.request({ url: '/x' }))).retryAfterMs).toBe(7000);
    fake.enqueue(json(503, {}, { 'retry-after': new Date(Date.now() + 30_000).toUTCString() }));
    const fromDate = (await caught(client().http.request({ url: '/x' }))).retryAfterMs!;
    expect(fromDate).toBeGreaterThan(27_000);
    expect(fromDate).toBeLessThanOrEqual(30_000);
    fake.enqueue(json(429, {}, { 'retry-after': '999999' }));
    expect((await caught(client().http.request({ url: '/x' }))).retryAfterMs).toBe(3_600_000);
  });

  it('lets the connector refine the error from the body', async () => {
    fake.enqueue(json(400, { ok: false, error_code: 429, parameters: { retry_after: 3 } }));
    const { http } = client({
      mapError: (_status, body) => {
        const retry = (body as { parameters?: { retry_after?: number } }).parameters?.retry_after;
        return retry === undefined
          ? undefined
          : { kind: 'retryable', code: 'rate_limited', retryAfterMs: retry * 1000 };
      },
    });
    expect(await caught(http.request({ url: '/x' }))).toMatchObject({
      kind: 'retryable',
      retryAfterMs: 3000,
    });
  });

  it('returns accepted statuses instead of throwing', async () => {
    fake.enqueue(json(404, { error: 'missing' }));
    const res = await client().http.request({ url: '/x', accept: [404] });
    expect(res.status).toBe(404);
  });

  it('fails invalid JSON with invalid_response, not a SyntaxError', async () => {
    fake.enqueue(hostile.invalidJson());
    const res = await client().http.request({ url: '/x' });
    expect(() => res.json()).toThrow(expect.objectContaining({ code: 'invalid_response', kind: 'fatal' }));
  });

  it('caps the response body', async () => {
    fake.enqueue(hostile.huge(2 * 1024 * 1024));
    const { http, audit } = client({ maxResponseBytes: 1024 * 1024 });
    expect(await caught(http.request({ url: '/x' }))).toMatchObject({
      code: 'response_too_large',
      kind: 'fatal',
    });
    expect(audit.entries.at(-1)).toMatchObject({ errorCode: 'response_too_large', status: 200 });
  });

  it('times out with the shorter of the step signal and the per-call timeout', async () => {
    fake.enqueue({ status: 200, body: '{}', delayMs: 1000 });
    const started = Date.now();
    const err = await caught(client().http.request({ url: '/slow', timeoutMs: 100 }));
    expect(err).toMatchObject({ code: 'timeout', kind: 'retryable' });
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('reports a cancelled step as cancelled, not retryable', async () => {
    const controller = new AbortController();
    fake.enqueue({ status: 200, body: '{}', delayMs: 1000 });
    const pending = client({ signal: controller.signal }).http.request({ url: '/slow' });
    setTimeout(() => controller.abort(new Error('run cancelled')), 50);
    expect(await caught(pending)).toMatchObject({ code: 'cancelled', kind: 'fatal' });
  });

  it('maps a refused connection to a retryable network error', async () => {
    const dead = await startFake(() => json(200, {}));
    await dead.close();
    const err = await caught(client({ baseUrl: dead.url }).http.request({ url: '/x' }));
    expect(err).toMatchObject({ code: 'network', kind: 'retryable' });
  });

  it('waits for the rate limiter instead of failing', async () => {
    const limiter = new MemoryRateLimiter();
    // Fixed windows: five calls at two per window span at least two window boundaries.
    const limit = { limit: 2, windowMs: 200 };
    const { http, audit } = client({ rateLimiter: limiter, rateLimits: [{ key: 'demo:c:*', limit }] });
    const started = Date.now();
    await Promise.all([1, 2, 3, 4, 5].map(() => http.request({ url: '/x' })));
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(audit.entries.some((e) => (e.rateLimitWaitMs ?? 0) > 0)).toBe(true);
  });
});

describe('makeHttpClient audit redaction', () => {
  it('never records credentials in headers, query, path or bodies', async () => {
    const redactor = makeRedactor(['opaque-tenant-secret-1234']);
    const { http, audit } = client({ redactor });
    await http.request({
      method: 'POST',
      url: '/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq/sendMessage',
      query: { api_key: 'k-123456', page: '2', sig: 'opaque-tenant-secret-1234' },
      headers: { authorization: 'Bearer abc.def.ghi', 'x-custom': 'sk_live_abcdefghijklmnop' },
      json: { password: 'hunter2hunter2', note: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
      auditBodies: true,
    });
    const text = JSON.stringify(audit.entries);
    for (const secret of [
      'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq',
      'k-123456',
      'abc.def.ghi',
      'sk_live_abcdefghijklmnop',
      'hunter2hunter2',
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'opaque-tenant-secret-1234',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(audit.entries[0]!.query).toMatchObject({ page: '2' });
  });
});

describe('makeHttpClient.fetch (for SDKs)', () => {
  it('returns provider errors as responses, audits them, and caps bodies', async () => {
    const { http, audit } = client({ maxResponseBytes: 64 * 1024 });
    fake.enqueue(json(429, { error: 'slow down' }, { 'retry-after': '2' }));
    const res = await http.fetch(`${fake.url}/sdk`, { method: 'POST', body: 'a=1' });
    expect(res.status).toBe(429);
    expect(await res.json()).toEqual({ error: 'slow down' });
    expect(audit.entries.at(-1)).toMatchObject({ method: 'POST', status: 429, path: '/sdk' });
    fake.enqueue(hostile.huge(256 * 1024));
    const big = await http.fetch(`${fake.url}/sdk`);
    const err = await big.text().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(ConnectorError.find(err)).toMatchObject({ code: 'response_too_large' });
  });

  it('guards every target that is not the base URL, whatever the connector', async () => {
    // No policy given: public addresses only. The base URL's origin is the operator's: trusted.
    const tenantUrl = client({ baseUrl: undefined }).http;
    await expect(tenantUrl.request({ url: `${fake.url}/x` })).rejects.toMatchObject({ code: 'ssrf_blocked' });
    await expect(tenantUrl.fetch(`${fake.url}/x`)).rejects.toMatchObject({ code: 'ssrf_blocked' });
    const sameHostOtherPort = new URL(fake.url);
    sameHostOtherPort.port = String(Number(sameHostOtherPort.port) === 1 ? 2 : 1);
    const { http, audit } = client();
    await expect(http.request({ url: `${sameHostOtherPort.origin}/x` })).rejects.toMatchObject({
      code: 'ssrf_blocked',
      kind: 'fatal',
    });
    expect(audit.entries.at(-1)).toMatchObject({ errorCode: 'ssrf_blocked' });
    const trusted = client({ baseUrl: undefined, trustedOrigins: [`${fake.url}/v1`] }).http;
    expect((await trusted.request({ url: `${fake.url}/x` })).status).toBe(200);
  });
});

describe('redirects', () => {
  const allowed = (extra: Partial<HttpClientOptions> = {}) =>
    client({ baseUrl: undefined, ssrf: parseAllowlist('127.0.0.1'), ...extra });

  it('follows a redirect, checking the next hop: one inward is refused before any connection', async () => {
    const { http, audit } = allowed();
    const before = fake.requests.length;
    fake.enqueue({ status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data' } });
    await expect(http.request({ url: `${fake.url}/x` })).rejects.toMatchObject({ code: 'ssrf_blocked' });
    expect(fake.requests.length).toBe(before + 1);
    expect(audit.entries.map((e) => [e.host, e.status ?? e.errorCode])).toEqual([
      [new URL(fake.url).host, 302],
      ['169.254.169.254', 'ssrf_blocked'],
    ]);
    // From a trusted base URL too: the next hop is not the operator's.
    fake.enqueue({ status: 307, headers: { location: 'http://[::ffff:a9fe:a9fe]/' } });
    await expect(client().http.request({ url: '/x' })).rejects.toMatchObject({ code: 'ssrf_blocked' });
  });

  it('follows allowed hops as fetch does, dropping credentials across origins', async () => {
    const { http } = allowed();
    const other = await startFake(() => json(200, {}));
    fake.enqueue({ status: 303, headers: { location: '/landed' } });
    const res = await http.request({
      method: 'POST',
      url: `${fake.url}/form`,
      json: { a: 1 },
      headers: { authorization: 'Bearer t0ken' },
    });
    expect(res.json()).toMatchObject({ path: '/landed' });
    const landed = fake.requests.at(-1)!;
    expect([landed.method, landed.body.length, landed.header('authorization')]).toEqual([
      'GET',
      0,
      'Bearer t0ken',
    ]);
    fake.enqueue({ status: 308, headers: { location: `${other.url}/moved` } });
    await http.request({
      method: 'PUT',
      url: `${fake.url}/put`,
      json: { b: 2 },
      headers: { authorization: 'x' },
    });
    await other.close();
    const moved = other.requests.at(-1)!;
    expect([moved.method, moved.path, moved.json(), moved.header('authorization')]).toEqual([
      'PUT',
      '/moved',
      { b: 2 },
      undefined,
    ]);
  });

  it('stops after five hops, and returns a 3xx to connectors that refuse redirects', async () => {
    for (let i = 0; i < 6; i++) fake.enqueue({ status: 302, headers: { location: `/hop${i}` } });
    await expect(allowed().http.request({ url: `${fake.url}/x` })).rejects.toMatchObject({
      code: 'too_many_redirects',
      kind: 'fatal',
    });
    fake.enqueue({ status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data' } });
    const res = await allowed({ followRedirects: false }).http.request({
      url: `${fake.url}/x`,
      accept: [302],
    });
    expect(res.status).toBe(302);
  });
});
