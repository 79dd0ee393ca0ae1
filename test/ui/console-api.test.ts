// The routes the web console needs (development sign-in, run change feed, jobs, webhook
// deliveries, workflow source) and how the console's files are served.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript build script, run by npm before any TypeScript tooling
import { buildUi } from '../../bin/build-ui.js';
import { devSignInOption } from '../../engine/http/routes/console.ts';
import { UI_CSP } from '../../engine/http/ui.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { type Api, problemOf, SECRET, startApi } from '../http/harness.ts';

const t = useTestDatabase();
let api: Api;
let plain: Api;
let missing: Api;
let uiDir: string;
let acme: string;
let globex: string;

beforeAll(async () => {
  uiDir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-ui-'));
  await buildUi({ outdir: uiDir });
  api = await startApi(t.db, {}, { devSignIn: { secret: SECRET }, uiDir });
  plain = await startApi(t.db);
  missing = await startApi(t.db, {}, { uiDir: path.join(uiDir, 'nowhere') });
  await t.db('tenants').insert([
    { id: 'acme', name: 'Acme' },
    { id: 'globex', name: 'Globex' },
    { id: 'gone', name: 'Gone', status: 'disabled' },
  ]);
  acme = await api.token({ tenants: ['acme'], sub: 'alice' });
  globex = await api.token({ tenants: ['globex'], sub: 'gus' });
});
afterAll(async () => {
  await Promise.all([api?.close(), plain?.close(), missing?.close()]);
  if (uiDir) await fs.rm(uiDir, { recursive: true, force: true });
});

describe('the console page', () => {
  it('serves the page at / and /ui/ with a strict CSP and no caching, its assets for a year, gzipped', async () => {
    for (const p of ['/', '/ui/', '/ui/runs']) {
      const res = await fetch(`${api.url}${p}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toBe(UI_CSP);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const page = await res.text();
      expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(page).toMatch(/<script type="module" src="\/ui\/assets\/app-[A-Z0-9]+\.js"><\/script>/);
    }
    expect(UI_CSP).toContain("script-src 'self'");
    expect(UI_CSP).not.toContain('unsafe-inline');
    const page = await (await fetch(api.url)).text();
    const script = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(page)![1]!;
    const res = await fetch(`${api.url}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect((await res.text()).length).toBeGreaterThan(1000);
  });

  it('answers 404 for a file the build did not make, and never leaves its folder', async () => {
    for (const p of [
      '/ui/assets/nope.js',
      '/ui/assets/..%2f..%2fpackage.json',
      '/ui/../package.json',
      '/ui/x.y',
    ]) {
      const res = await fetch(`${api.url}${p}`);
      expect([404]).toContain(res.status);
      expect(await res.text()).not.toContain('"name": "atlas-engine"');
    }
  });

  it('explains how to build the page when the build is missing, and the API still works', async () => {
    const res = await fetch(missing.url);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toContain('npm run build');
    expect((await fetch(`${missing.url}/healthz`)).status).toBe(200);
  });

  it('leaves the API to the API: an unknown /v1 path is still problem+json', async () => {
    const res = await fetch(`${api.url}/v1/nothing`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
});

describe('development sign-in', () => {
  it('is offered only on loopback with the development secret', () => {
    const auth = { jwtSecret: 'x'.repeat(32), jwksUrl: undefined };
    expect(devSignInOption({ host: '127.0.0.1' }, auth, '/home/.atlas/jwt-secret')).toEqual({
      devSignIn: { secret: auth.jwtSecret },
    });
    expect(devSignInOption({ host: '::1' }, auth, '/f').devSignIn).toBeDefined();
    expect(devSignInOption({ host: '0.0.0.0' }, auth, '/f')).toEqual({});
    expect(devSignInOption({ host: '127.0.0.1' }, auth, undefined)).toEqual({});
    expect(devSignInOption({ host: '127.0.0.1' }, { ...auth, jwksUrl: 'https://idp/jwks' }, '/f')).toEqual(
      {},
    );
  });

  it('lists the active tenants and mints a token for the chosen one only', async () => {
    const info = await (await fetch(`${api.url}/v1/dev/sign-in`)).json();
    expect(info).toEqual({ available: true, tenants: ['acme', 'globex'] });
    const res = await api.call('POST', '/v1/dev/sign-in', { body: { tenant: 'acme' } });
    expect(res.status).toBe(201);
    const { token, tenants } = (await res.json()) as { token: string; tenants: string[] };
    expect(tenants).toEqual(['acme']);
    expect((await api.call('GET', '/v1/runs', { token, tenant: 'acme' })).status).toBe(200);
    expect((await api.call('GET', '/v1/runs', { token, tenant: 'globex' })).status).toBe(403);
  });

  it('refuses through a proxy, for a disabled or unknown tenant, and when not offered', async () => {
    const proxied = await api.call('POST', '/v1/dev/sign-in', {
      body: { tenant: 'acme' },
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(proxied.status).toBe(403);
    expect((await problemOf(proxied)).detail).toContain('proxy');
    const info = (await (
      await fetch(`${api.url}/v1/dev/sign-in`, { headers: { 'x-forwarded-host': 'atlas.example.com' } })
    ).json()) as { available: boolean; tenants?: string[] };
    expect(info.available).toBe(false);
    expect(info.tenants).toBeUndefined();
    for (const tenant of ['gone', 'nobody']) {
      expect((await api.call('POST', '/v1/dev/sign-in', { body: { tenant } })).status).toBe(403);
    }
    expect((await api.call('POST', '/v1/dev/sign-in', { body: { tenant: '../x' } })).status).toBe(422);
    const off = await plain.call('POST', '/v1/dev/sign-in', { body: { tenant: 'acme' } });
    expect(off.status).toBe(403);
    expect((await problemOf(off)).detail).toContain('ATLAS_JWT_SECRET');
    expect(await (await fetch(`${plain.url}/v1/dev/sign-in`)).json()).toMatchObject({ available: false });
  });
});

interface Change {
  items: Array<{ id: string; status: string; updatedAt: string }>;
  cursor: string;
  more?: boolean;
}

describe('run changes', () => {
  it('feeds new runs and status changes after a cursor, for the token’s tenant only', async () => {
    const first = (await (
      await api.call('GET', '/v1/runs/changes', { token: acme, tenant: 'acme' })
    ).json()) as Change;
    const started = await api.call('POST', '/v1/workflows/WF-001/runs', {
      token: acme,
      tenant: 'acme',
      body: { input: { name: 'Ada' } },
    });
    const run = (await started.json()) as { id: string };
    const after = (await (
      await api.call('GET', `/v1/runs/changes?cursor=${first.cursor}`, { token: acme, tenant: 'acme' })
    ).json()) as Change;
    expect(after.items.map((r) => [r.id, r.status])).toContainEqual([run.id, 'queued']);
    await api.call('POST', `/v1/runs/${run.id}/cancel`, { token: acme, tenant: 'acme' });
    const later = (await (
      await api.call('GET', `/v1/runs/changes?cursor=${after.cursor}`, { token: acme, tenant: 'acme' })
    ).json()) as Change;
    expect(later.items.filter((r) => r.id === run.id).at(-1)?.status).toBe('cancelled');
    const other = (await (
      await api.call('GET', `/v1/runs/changes?cursor=${first.cursor}`, { token: globex, tenant: 'globex' })
    ).json()) as Change;
    expect(other.items).toEqual([]);
  });

  it('pages through more changes than one answer holds, oldest first', async () => {
    const first = (await (
      await api.call('GET', '/v1/runs/changes', { token: acme, tenant: 'acme' })
    ).json()) as Change;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api.call('POST', '/v1/workflows/WF-001/runs', {
        token: acme,
        tenant: 'acme',
        body: { input: { name: `n${i}` } },
      });
      ids.push(((await res.json()) as { id: string }).id);
    }
    const seen: string[] = [];
    let cursor = first.cursor;
    for (let page = 0; page < 10; page++) {
      const res = (await (
        await api.call('GET', `/v1/runs/changes?limit=2&cursor=${cursor}`, { token: acme, tenant: 'acme' })
      ).json()) as Change;
      seen.push(...res.items.map((r) => r.id));
      cursor = res.cursor;
      if (!res.more) break;
    }
    for (const id of ids) expect(seen).toContain(id);
    expect(seen.filter((id) => ids.includes(id))).toEqual(ids.filter((id) => seen.includes(id)));
  });

  it('refuses a cursor it did not issue', async () => {
    const forged = Buffer.from(JSON.stringify({ p: "1' or 1=1|x" })).toString('base64url');
    const res = await api.call('GET', `/v1/runs/changes?cursor=${forged}`, { token: acme, tenant: 'acme' });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).detail).toContain('cursor');
  });
});

describe('jobs, webhook deliveries and workflow sources', () => {
  it('lists the tenant’s jobs, newest first, with filters and pages', async () => {
    const ids: string[] = [];
    for (const task of ['one', 'two', 'three']) {
      const res = await api.call('POST', '/v1/jobs', {
        token: acme,
        tenant: 'acme',
        body: { type: 'AGENT_TASK', payload: { agent: 'helper', task } },
      });
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const page1 = (await (
      await api.call('GET', '/v1/jobs?limit=2', { token: acme, tenant: 'acme' })
    ).json()) as {
      items: Array<{ id: string; type: string }>;
      nextCursor: string;
    };
    expect(page1.items.map((j) => j.id)).toEqual([ids[2], ids[1]]);
    const page2 = (await (
      await api.call(`GET`, `/v1/jobs?limit=2&cursor=${page1.nextCursor}`, { token: acme, tenant: 'acme' })
    ).json()) as { items: Array<{ id: string }>; nextCursor?: string };
    expect(page2.items.map((j) => j.id)).toEqual([ids[0]]);
    expect(page2.nextCursor).toBeUndefined();
    const filtered = (await (
      await api.call('GET', '/v1/jobs?type=EMAIL_SEND', { token: acme, tenant: 'acme' })
    ).json()) as { items: unknown[] };
    expect(filtered.items).toEqual([]);
    const theirs = (await (
      await api.call('GET', '/v1/jobs', { token: globex, tenant: 'globex' })
    ).json()) as {
      items: unknown[];
    };
    expect(theirs.items).toEqual([]);
  });

  it('lists webhook deliveries with the runs they started, for their tenant only', async () => {
    const run = (await (
      await api.call('POST', '/v1/workflows/WF-001/runs', {
        token: acme,
        tenant: 'acme',
        body: { input: { name: 'W' } },
      })
    ).json()) as { id: string };
    await t.db('webhook_events').insert([
      {
        tenant_id: 'acme',
        route_id: 'stripe',
        event_id: 'evt_1',
        event_type: 'invoice.paid',
        payload: {},
        run_ids: [run.id],
      },
      {
        tenant_id: 'globex',
        route_id: 'stripe',
        event_id: 'evt_2',
        event_type: 'invoice.paid',
        payload: { secret: 'theirs' },
      },
    ]);
    const mine = (await (
      await api.call('GET', '/v1/webhook-events', { token: acme, tenant: 'acme' })
    ).json()) as {
      items: Array<Record<string, unknown>>;
    };
    expect(mine.items).toHaveLength(1);
    expect(mine.items[0]).toMatchObject({
      route: 'stripe',
      eventId: 'evt_1',
      eventType: 'invoice.paid',
      runIds: [run.id],
    });
    expect(mine.items[0]).not.toHaveProperty('payload');
    const withBody = (await (
      await api.call('GET', '/v1/webhook-events?payload=true&route=stripe', {
        token: globex,
        tenant: 'globex',
      })
    ).json()) as { items: Array<Record<string, unknown>> };
    expect(withBody.items.map((d) => [d.eventId, d.payload])).toEqual([['evt_2', { secret: 'theirs' }]]);
  });

  it('answers a clear 404 for a workflow whose source it cannot show', async () => {
    const res = await api.call('GET', '/v1/workflows/WF-404/source', { token: acme, tenant: 'acme' });
    expect(res.status).toBe(404);
    expect((await problemOf(res)).detail).toContain('WF-404');
    const unreadable = await api.call('GET', '/v1/workflows/WF-001/source', { token: acme, tenant: 'acme' });
    expect(unreadable.status).toBe(404);
  });
});
