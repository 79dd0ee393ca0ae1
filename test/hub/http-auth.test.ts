/**
 * `ctx.http.request({ auth })` in the hub: the credential headers are added by the hub, and a
 * redirect to another origin drops them, a custom header included, as it drops Authorization.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { http } from '../../connectors/http/index.ts';
import { type FakeServer, json, startFake } from '../fakes/server.ts';
import { makeTestContext } from './context.ts';

let other: FakeServer;
let first: FakeServer;
beforeAll(async () => {
  other = await startFake(() => json(200, { ok: true }));
  first = await startFake((req) =>
    req.path === '/same'
      ? { status: 302, headers: { location: '/final' } }
      : req.path === '/final'
        ? json(200, { ok: true })
        : { status: 302, headers: { location: `${other.url}/landing` } },
  );
});
afterAll(async () => {
  await first?.close();
  await other?.close();
});

const context = () =>
  makeTestContext(http, 'request', { secrets: { KEY: 'key-51f0c2', TOKEN: 'tok-3e9a77' } }).ctx;

it('keeps the credentials on a same-origin redirect and drops them on another origin', async () => {
  await context().http.request({
    url: `${first.url}/same`,
    auth: { header: { name: 'X-Api-Key', secret: 'KEY' } },
  });
  expect(first.requests.find((r) => r.path === '/final')?.header('x-api-key')).toBe('key-51f0c2');

  await context().http.request({
    url: `${first.url}/away`,
    auth: { header: { name: 'X-Api-Key', secret: 'KEY' } },
  });
  await context().http.request({ url: `${first.url}/away`, auth: { bearer: 'TOKEN' } });
  const landed = other.requests.filter((r) => r.path === '/landing');
  expect(landed).toHaveLength(2);
  for (const r of landed) {
    expect(r.header('x-api-key')).toBeUndefined();
    expect(r.header('authorization')).toBeUndefined();
  }
});

it('refuses a header set both by headers and by auth', async () => {
  await expect(
    context().http.request({
      url: `${first.url}/final`,
      headers: { Authorization: 'x' },
      auth: { bearer: 'TOKEN' },
    }),
  ).rejects.toMatchObject({
    code: 'invalid_input',
    message: 'the authorization header is set twice: by headers and by auth',
  });
});
