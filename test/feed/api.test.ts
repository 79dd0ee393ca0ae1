/**
 * The feed's API on a real HTTP server over the real services and a feed reading this file's
 * replication slot: tenants see and receive only their own events, a change that does not move
 * an entity makes no event, hostile input gets a clear problem, and a receiver's 410 Gone
 * disables its subscription.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../engine/auth/mint.ts';
import { MAX_STREAMS_PER_TENANT } from '../../engine/http/routes/feed.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { poll } from '../helpers/poll.ts';
import { closeServer, problemOf } from '../http/harness.ts';

const SECRET = 'feed-api-test-jwt-secret-0123456789abcdef';
const WORKFLOW = `apiVersion: atlas/v1
kind: Workflow
id: WF-001
trigger: { type: manual }
steps:
  - id: hello
    uses: core.noop
`;

interface EventView {
  id: string;
  type: string;
  tenantId: string;
  entity: { type: string; id: string; seq: number };
}

describe('the change feed API', () => {
  const database = useTestDatabase();
  let engine: TestEngine;
  let server: Server;
  let base: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    // The API over the real services, with this file's feed reading its replication slot.
    engine = await startTestEngine(database, {
      manifests: { 'wf.yaml': WORKFLOW },
      tenants: ['acme', 'globex'],
      env: { ATLAS_JWT_SECRET: SECRET },
      http: true,
      feed: true,
    });
    const app = engine.engine.app!;
    server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    for (const t of ['acme', 'globex']) {
      tokens[t] = await mintToken({ secret: SECRET, sub: `${t}-user`, tenants: [t], ttlSeconds: 600 });
    }
  });

  afterAll(async () => {
    await closeServer(server);
    await engine.stop();
  });

  const call = (
    tenant: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${tokens[tenant]}`,
        'x-tenant-id': tenant,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  const eventsOf = async (tenant: string): Promise<EventView[]> => {
    const res = await call(tenant, 'GET', '/v1/events?limit=500');
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: EventView[] }).items;
  };

  it('shows each tenant its own events only, and delivers them to its own subscriptions only', async () => {
    const created = await call('acme', 'POST', '/v1/subscriptions', {
      url: 'http://127.0.0.1:9/hooks',
      types: ['run.*'],
    });
    expect(created.status).toBe(201);
    const sub = (await created.json()) as { id: string; secret: string };
    expect(sub.secret).toMatch(/^whsec_/);
    // The secret is never shown again, nor written to the audit log.
    const listed = await (await call('acme', 'GET', '/v1/subscriptions')).json();
    expect(JSON.stringify(listed)).not.toContain(sub.secret);
    const audit = await database.db('audit_log').where({ action: 'subscriptions.create' });
    expect(JSON.stringify(audit)).not.toContain(sub.secret);

    const acmeRun = (await engine.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-001' })).run;
    const globexRun = (await engine.runtime.trigger({ tenantId: 'globex', workflowId: 'WF-001' })).run;
    await poll(async () => {
      const ids = (await eventsOf('globex')).map((e) => e.entity.id);
      return ids.includes(globexRun.id) ? true : undefined;
    });
    const acme = await eventsOf('acme');
    expect(acme.map((e) => e.entity.id)).toContain(acmeRun.id);
    expect(acme.every((e) => e.tenantId === 'acme')).toBe(true);
    expect((await eventsOf('globex')).every((e) => e.tenantId === 'globex')).toBe(true);

    // One delivery job, for acme's run only, carrying the event id as its webhook-id.
    const jobs = await database.db('jobs').where({ actor: `feed:${sub.id}` });
    expect(jobs).toHaveLength(1);
    expect(jobs[0].tenant_id).toBe('acme');
    expect(jobs[0].payload).toMatchObject({
      type: 'run.queued',
      messageId: acme.find((e) => e.entity.id === acmeRun.id)!.id,
    });
    // And the delivery job itself is no event (a job.* subscription would feed itself).
    expect(acme.some((e) => e.entity.id === jobs[0].id)).toBe(false);

    // Another tenant's subscription does not exist for globex.
    expect((await call('globex', 'DELETE', `/v1/subscriptions/${sub.id}`)).status).toBe(404);
  });

  it('numbers events per entity and makes none for a change that leaves the state as it was', async () => {
    const run = (await engine.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-001' })).run;
    await poll(async () => ((await eventsOf('acme')).some((e) => e.entity.id === run.id) ? true : undefined));
    // A lease renewal, then real transitions.
    await database.db('workflow_runs').where({ id: run.id }).update({ lease_expires_at: new Date() });
    await database.db('workflow_runs').where({ id: run.id }).update({ status: 'running' });
    await database.db('workflow_runs').where({ id: run.id }).update({ lease_expires_at: new Date() });
    await database.db('workflow_runs').where({ id: run.id }).update({ status: 'cancelled' });
    const mine = await poll(async () => {
      const events = (await eventsOf('acme')).filter((e) => e.entity.id === run.id);
      return events.length >= 3 ? events : undefined;
    });
    await new Promise((r) => setTimeout(r, 300));
    const settled = (await eventsOf('acme')).filter((e) => e.entity.id === run.id);
    expect(settled).toEqual(mine);
    expect(mine.map((e) => [e.type, e.entity.seq])).toEqual([
      ['run.queued', 1],
      ['run.running', 2],
      ['run.cancelled', 3],
    ]);
  });

  it('starts a client at the newest event with after=latest, and reports the slot lag', async () => {
    const all = await eventsOf('acme');
    const head = (await (await call('acme', 'GET', '/v1/events?after=latest')).json()) as {
      items: unknown[];
      cursor: string;
    };
    expect(head.items).toEqual([]);
    expect(`evt_${head.cursor}`).toBe(all.at(-1)!.id);
    const status = (await (await call('acme', 'GET', '/v1/events/status')).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ on: true, maxLagBytes: 2 ** 30 });
    expect(typeof status.lagBytes).toBe('number');
  });

  it('ends open streams when the server stops accepting connections', async () => {
    const second = createServer(server.listeners('request')[0] as Parameters<typeof createServer>[0]);
    await new Promise<void>((resolve) => second.listen(0, '127.0.0.1', resolve));
    const port = (second.address() as { port: number }).port;
    const res = await fetch(`http://127.0.0.1:${port}/v1/events?after=latest`, {
      headers: { authorization: `Bearer ${tokens.acme}`, 'x-tenant-id': 'acme', accept: 'text/event-stream' },
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const started = Date.now();
    const closed = new Promise<void>((resolve) => second.close(() => resolve()));
    const text = await res.text(); // resolves only when the stream ends
    await closed; // and the connection too
    expect(text).toContain('retry: 2000');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('skips the changes of a tenant deleted before they were read, and reads on', async () => {
    await database.db('tenants').insert({ id: 'brief', name: 'Brief' });
    await database.db('integrations').insert({ tenant_id: 'brief', provider: 'google' });
    await database.db('tenants').where({ id: 'brief' }).delete();
    const run = (await engine.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-001' })).run;
    await poll(
      async () => ((await eventsOf('acme')).some((e) => e.entity.id === run.id) ? true : undefined),
      8000,
    );
  });

  it('holds a tenant to its share of open streams', async () => {
    const controllers: AbortController[] = [];
    const open = (tenant: string) => {
      const c = new AbortController();
      controllers.push(c);
      return fetch(`${base}/v1/events?after=latest`, {
        headers: {
          authorization: `Bearer ${tokens[tenant]}`,
          'x-tenant-id': tenant,
          accept: 'text/event-stream',
        },
        signal: c.signal,
      });
    };
    try {
      // Held: a response the client lets go of may be collected, and undici then closes its stream.
      const held: Response[] = [];
      for (let i = 0; i < MAX_STREAMS_PER_TENANT; i++) held.push(await open('acme'));
      expect(held.map((r) => r.status)).toEqual(held.map(() => 200));
      const refused = await open('acme');
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect((await open('globex')).status).toBe(200); // another tenant is not held back
      controllers.shift()!.abort(); // one closes: one more may open
      const again = await poll(async () => {
        const res = await open('acme');
        if (res.status === 200) return res;
        await res.body?.cancel();
        return undefined;
      }, 5000);
      expect(again.status).toBe(200);
    } finally {
      for (const c of controllers) c.abort();
    }
  });

  it('answers hostile input with a problem', async () => {
    const badId = await call('acme', 'GET', '/v1/events', undefined, { 'last-event-id': '1; drop table x' });
    expect((await problemOf(badId)).status).toBe(400);
    expect((await problemOf(await call('acme', 'GET', '/v1/events?types=run.%2A%2Cx'))).status).toBe(400);
    expect((await problemOf(await call('acme', 'GET', '/v1/events?after=-1'))).status).toBe(400);
    const cases: unknown[] = [
      { url: 'ftp://127.0.0.1/x', types: ['run.succeeded'] },
      { url: 'http://127.0.0.1/x', types: ['run.bogus'] },
      { url: 'http://127.0.0.1/x', types: [] },
      { url: 'http://127.0.0.1/x', types: ['run.succeeded'], secret: 'whsec_AAAA' },
      { url: 'http://127.0.0.1/x', types: ['run.succeeded'], extra: true },
    ];
    for (const body of cases) {
      const res = await call('acme', 'POST', '/v1/subscriptions', body);
      expect((await problemOf(res)).status, JSON.stringify(body)).toBe(422);
    }
  });

  it('disables a subscription whose receiver answered 410 Gone', async () => {
    const created = await call('acme', 'POST', '/v1/subscriptions', {
      url: 'http://127.0.0.1:9/gone',
      types: ['run.queued'],
    });
    const sub = (await created.json()) as { id: string };
    await engine.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-001' });
    const job = await poll(async () =>
      database
        .db('jobs')
        .where({ actor: `feed:${sub.id}` })
        .first(),
    );
    // The webhook connector's outcome for a 410 (connectors/webhook): the job fails as endpoint_gone.
    await database
      .db('jobs')
      .where({ id: job.id })
      .update({ status: 'failed', last_error: JSON.stringify({ code: 'endpoint_gone', kind: 'fatal' }) });
    const disabled = await poll(async () => {
      const items = (
        (await (await call('acme', 'GET', '/v1/subscriptions')).json()) as {
          items: Array<{ id: string; status: string; statusReason: string | null }>;
        }
      ).items;
      const row = items.find((s) => s.id === sub.id);
      return row?.status === 'disabled' ? row : undefined;
    });
    expect(disabled.statusReason).toMatch(/410 Gone/);
  });
});
