/**
 * The change feed end to end, with real `atlas serve` processes on this file's database:
 * a subscriber receives `run.succeeded` for WF-001 once (one event id, verified with the
 * `standardwebhooks` package) although the engine was killed while delivering it and started
 * again; `GET /v1/events` pages and streams the run's events in order.
 */
import fs from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../engine/auth/mint.ts';
import { freePort } from '../../engine/db/embedded.ts';
import { cliEnv, type LongRunning, ROOT, startCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { poll } from '../helpers/poll.ts';

const SECRET = 'feed-test-jwt-secret-0123456789abcdef';
const HOOK_SECRET = `whsec_${Buffer.alloc(24, 9).toString('base64')}`;

interface Delivery {
  headers: Record<string, string>;
  body: string;
  answered: number | 'held';
}

describe('change feed deliveries survive a killed engine', () => {
  const database = useTestDatabase();
  let home: string;
  let receiver: Server;
  let receiverUrl: string;
  const deliveries: Delivery[] = [];
  let hold = true;
  const held: ServerResponse[] = [];
  const engines: LongRunning[] = [];
  let env: NodeJS.ProcessEnv;
  let base: string;
  let token: string;

  beforeAll(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-feed-'));
    await database.db('tenants').insert({ id: 'acme', name: 'Acme' });
    receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers = Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)]),
        );
        const delivery: Delivery = {
          headers,
          body: Buffer.concat(chunks).toString('utf8'),
          answered: 'held',
        };
        deliveries.push(delivery);
        if (hold) {
          held.push(res); // the engine is killed while this request waits for its answer
          return;
        }
        delivery.answered = 204;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = cliEnv({
      DATABASE_URL: database.url,
      PORT: String(port),
      ATLAS_HOME: home,
      ATLAS_MANIFESTS: path.join(ROOT, 'manifests'),
      ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64'),
      ATLAS_JWT_SECRET: SECRET,
      ATLAS_OUTBOUND_ALLOWLIST: '127.0.0.1',
      LOG_LEVEL: 'info',
    });
    token = await mintToken({ secret: SECRET, sub: 'feed-test', tenants: ['acme'], ttlSeconds: 600 });
  });

  afterAll(async () => {
    for (const e of engines) await e.stop('SIGKILL');
    for (const res of held) res.destroy();
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await fs.rm(home, { recursive: true, force: true });
  });

  const call = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'x-tenant-id': 'acme',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  const startEngine = async () => {
    const engine = startCli(['serve'], env);
    engines.push(engine);
    await engine.waitFor(/Atlas is listening on/, 60_000);
    await engine.waitFor(/change feed: reading the replication slot/, 60_000);
    return engine;
  };

  it('delivers run.succeeded for WF-001 once, signed, after a kill mid-delivery', async () => {
    const first = await startEngine();
    const created = await call('POST', '/v1/subscriptions', {
      url: receiverUrl,
      types: ['run.succeeded'],
      secret: HOOK_SECRET,
    });
    expect(created.status).toBe(201);
    const subscription = (await created.json()) as { id: string; secret?: string };
    expect(subscription.secret).toBeUndefined();

    const started = await call('POST', '/v1/workflows/WF-001/runs', { input: { name: 'Ada' } });
    expect(started.status).toBe(202);
    const run = (await started.json()) as { id: string };

    // The first delivery arrives and is held open; the engine dies while it waits.
    await poll(async () => (deliveries.length > 0 ? true : undefined), 30_000);
    await first.stop('SIGKILL');
    hold = false;
    for (const res of held) res.destroy();

    await startEngine();
    const delivered = await poll(async () => deliveries.find((d) => d.answered === 204), 90_000);

    const verifier = new Webhook(HOOK_SECRET);
    const payloads = deliveries.map((d) =>
      verifier.verify(d.body, {
        'webhook-id': d.headers['webhook-id']!,
        'webhook-timestamp': d.headers['webhook-timestamp']!,
        'webhook-signature': d.headers['webhook-signature']!,
      }),
    ) as Array<{
      type: string;
      data: { id: string; entity: { id: string; seq: number }; data: { status: string } };
    }>;
    expect(deliveries.length).toBeGreaterThanOrEqual(2);
    // Every attempt carries the same event: one id to de-duplicate on, one run.succeeded.
    expect(new Set(deliveries.map((d) => d.headers['webhook-id']))).toEqual(
      new Set([delivered.headers['webhook-id']]),
    );
    for (const p of payloads) {
      expect(p.type).toBe('run.succeeded');
      expect(p.data.entity.id).toBe(run.id);
      expect(p.data.data.status).toBe('succeeded');
      expect(p.data.id).toBe(delivered.headers['webhook-id']);
    }
    const events = await database.db('feed_events').where({ entity_id: run.id }).orderBy('id');
    expect(events.map((e: { type: string }) => e.type)).toEqual([
      'run.queued',
      'run.running',
      'run.succeeded',
    ]);
    expect(events.map((e: { entity_seq: number }) => e.entity_seq)).toEqual([1, 2, 3]);

    // The cursor page: the run's events in order, and `after` resumes.
    const page = (await (await call('GET', '/v1/events?limit=500')).json()) as {
      items: Array<{ id: string; type: string; entity: { id: string; seq: number } }>;
      cursor: string;
      more: boolean;
    };
    const mine = page.items.filter((e) => e.entity.id === run.id);
    expect(mine.map((e) => e.type)).toEqual(['run.queued', 'run.running', 'run.succeeded']);
    const rest = (await (await call('GET', `/v1/events?after=${mine[0]!.id}&types=run.*`)).json()) as {
      items: Array<{ type: string; entity: { id: string } }>;
    };
    expect(rest.items.filter((e) => e.entity.id === run.id).map((e) => e.type)).toEqual([
      'run.running',
      'run.succeeded',
    ]);

    // Server-Sent Events, resumed after the first event with Last-Event-ID.
    const abort = new AbortController();
    const sse = await call('GET', '/v1/events', undefined, {
      accept: 'text/event-stream',
      'last-event-id': mine[0]!.id,
    });
    expect(sse.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = sse.body!.getReader();
    let text = '';
    const deadline = Date.now() + 10_000;
    while (!text.includes('event: run.succeeded') && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    abort.abort();
    expect(text).not.toContain('event: run.queued');
    expect(text).toMatch(/id: \d+\nevent: run.running\ndata: /);
    expect(text).toContain('event: run.succeeded');
  }, 180_000);
});
