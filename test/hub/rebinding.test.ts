/**
 * DNS rebinding: a name answers a harmless address to the check and an internal one to the
 * connection. A local DNS server answers `rebind.test` with 127.0.0.2 (allow-listed here as
 * if it were public; a harmless fake listens there) first and 127.0.0.1 (the "internal"
 * service, same port) after. Atlas must connect to the address it checked: the harmless one.
 * Only 127.0.0.0/8 is ever reached; names never go to the system's resolver.
 */
import { isIP } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAuditSink } from '../../engine/audit/entry.ts';
import { makeHttpClient } from '../../engine/hub/http.ts';
import { parseAllowlist, type SsrfPolicy } from '../../engine/hub/ssrf.ts';
import { type FakeDns, startFakeDns } from '../fakes/dns.ts';
import { type FakeServer, json, startFake } from '../fakes/server.ts';

let dns: FakeDns;
let internal: FakeServer;
let harmless: FakeServer;
let port: number;

/** The internal service on 127.0.0.1:P and the harmless one on 127.0.0.2:P. */
async function startPair(): Promise<void> {
  for (let tries = 0; ; tries++) {
    internal = await startFake(() => json(200, { secret: 'internal' }));
    port = Number(new URL(internal.url).port);
    try {
      harmless = await startFake(
        (req) =>
          req.path === '/bounce'
            ? { status: 302, headers: { location: `http://inward.test:${port}/secret` } }
            : json(200, { harmless: true }),
        { host: '127.0.0.2', port },
      );
      return;
    } catch (err) {
      await internal.close();
      if (tries >= 4) throw err;
    }
  }
}

beforeAll(async () => {
  await startPair();
  dns = await startFakeDns({
    'rebind.test': ['127.0.0.2', '127.0.0.1'],
    'inward.test': ['127.0.0.1'],
    'direct.test': ['127.0.0.1'],
  });
});
afterAll(async () => {
  await harmless?.close();
  await internal?.close();
  await dns?.close();
});

/** Refuses to let fetch resolve a name itself: that would be the system's resolver. */
const noSystemResolver: typeof fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) === 0 && !(init as { dispatcher?: unknown } | undefined)?.dispatcher) {
    return Promise.reject(new Error(`test refused: fetch would resolve ${host} itself`));
  }
  if (isIP(host) === 4 && !host.startsWith('127.'))
    return Promise.reject(new Error(`test egress refused: ${host}`));
  return fetch(input, init);
};

function client(policy: SsrfPolicy) {
  const audit = new MemoryAuditSink();
  const http = makeHttpClient({
    tenantId: 't1',
    connectorId: 'http',
    actionId: 'request',
    signal: AbortSignal.timeout(5000),
    audit,
    ssrf: policy,
    fetchImpl: noSystemResolver,
  });
  return { http, audit };
}

describe('DNS rebinding', () => {
  const policy = (): SsrfPolicy => ({ ...parseAllowlist('127.0.0.2'), resolve: dns.resolve });

  it('connects to the address that passed the check, not to a second answer', async () => {
    const { http } = client(policy());
    const res = await http.request({ url: `http://rebind.test:${port}/data` });
    expect(res.json()).toEqual({ harmless: true });
    expect(harmless.requests.map((r) => [r.path, r.header('host')])).toEqual([
      ['/data', `rebind.test:${port}`],
    ]);
    expect(internal.requests).toHaveLength(0);
    // One lookup served both the check and the connection.
    expect(dns.queries.get('rebind.test')).toBe(1);

    // A new connection asks again: now the name points inward, and is refused.
    const refused = await client(policy())
      .http.request({ url: `http://rebind.test:${port}/data` })
      .then(
        () => undefined,
        (err: unknown) => err as Error,
      );
    expect(refused).toMatchObject({ code: 'ssrf_blocked', kind: 'fatal' });
    // The tenant learns that the name is refused, not where it points.
    expect(refused?.message).toMatch(/^rebind\.test resolves to a non-public address;/);
    expect(refused?.message).not.toMatch(/127\.0\.0\.1|loopback/);
    expect(dns.queries.get('rebind.test')).toBe(2);
    expect(internal.requests).toHaveLength(0);
  });

  it('checks and pins every redirect hop', async () => {
    const { http, audit } = client(policy());
    await expect(http.request({ url: `http://127.0.0.2:${port}/bounce` })).rejects.toMatchObject({
      code: 'ssrf_blocked',
    });
    expect(dns.queries.get('inward.test')).toBe(1);
    expect(internal.requests).toHaveLength(0);
    expect(audit.entries.map((e) => [e.host, e.status ?? e.errorCode])).toEqual([
      [`127.0.0.2:${port}`, 302],
      [`inward.test:${port}`, 'ssrf_blocked'],
    ]);
  });

  it('refuses a name that resolves inward, for SDK fetches as well', async () => {
    const { http } = client(policy());
    await expect(http.fetch(`http://direct.test:${port}/`)).rejects.toMatchObject({ code: 'ssrf_blocked' });
    await expect(http.fetch(`http://nowhere.test:${port}/`)).rejects.toMatchObject({
      code: 'dns_failed',
      kind: 'retryable',
    });
    expect(internal.requests).toHaveLength(0);
  });
});
