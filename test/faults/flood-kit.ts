/**
 * A webhook flood against real `atlas serve` processes that are killed and started again:
 * Stripe-signed deliveries (a share of them sent twice, as providers do), retried by the
 * sender until answered, while a monkey SIGKILLs the API process and starts a new one on the
 * same port. Used by test/faults/flood.test.ts (CI size) and bench/flood.ts (full size).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import Stripe from 'stripe';
import { Pool } from 'undici';
import { mintToken } from '../../engine/auth/mint.ts';
import { freePort } from '../../engine/db/embedded.ts';
import { cliEnv, type LongRunning, ROOT, startCli } from '../helpers/cli.ts';

const JWT_SECRET = 'flood-jwt-secret-0123456789abcdefghij';
const HOOK_SECRET = 'whsec_floodFloodFlood0123456789abcdef';
const stripe = new Stripe('sk_test_x'); // offline: only its test-header signer is used

const WORKFLOW = `apiVersion: atlas/v1
kind: Workflow
id: WF-900
name: Flood receiver
description: Records each payment; used by the webhook flood.
enabled: default
trigger:
  type: webhook
  route: stripe
  events: [payment_intent.succeeded]
steps:
  - id: record
    uses: core.noop
`;

export interface FloodOptions {
  deliveries: number;
  /** Share of deliveries sent a second time (0.3: 30%). */
  duplicates: number;
  /** SIGKILLs of the API process, spread over the flood. */
  kills: number;
  concurrency: number;
  databaseUrl: string;
  log?: (line: string) => void;
}

export interface FloodResult {
  sent: number;
  answered2xx: number;
  distinctAccepted: number;
  duplicatesSent: number;
  retriesAfterNetworkErrors: number;
  otherAnswers: Record<string, number>;
  eventRows: number;
  runs: number;
  /** Event ids with more than one event row or run (must be none). */
  doubled: string[];
  /** Accepted event ids with no event row or no run (must be none). */
  lost: string[];
  restartSeconds: number[];
  seconds: number;
}

export async function flood(options: FloodOptions): Promise<FloodResult> {
  const log = options.log ?? (() => {});
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-flood-'));
  const manifests = path.join(home, 'manifests');
  await fs.mkdir(path.join(manifests, 'webhooks'), { recursive: true });
  await fs.mkdir(path.join(manifests, 'workflows'), { recursive: true });
  await fs.copyFile(
    path.join(ROOT, 'manifests/webhooks/stripe.yaml'),
    path.join(manifests, 'webhooks/stripe.yaml'),
  );
  await fs.writeFile(path.join(manifests, 'workflows/WF-900-flood.yaml'), WORKFLOW);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = cliEnv({
    DATABASE_URL: options.databaseUrl,
    PORT: String(port),
    ATLAS_HOME: home,
    ATLAS_MANIFESTS: manifests,
    ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64'),
    ATLAS_JWT_SECRET: JWT_SECRET,
    LOG_LEVEL: 'info',
  });
  let server: LongRunning | undefined;
  const start = async () => {
    const s = startCli(['serve'], env);
    await s.waitFor(/Atlas is listening on/, 120_000);
    server = s;
    return s;
  };
  const admin = new pg.Client(options.databaseUrl);
  await admin.connect();
  const restartSeconds: number[] = [];
  try {
    await start();
    await admin.query(`insert into tenants (id, name) values ('acme', 'Acme') on conflict do nothing`);
    const token = await mintToken({ secret: JWT_SECRET, sub: 'flood', tenants: ['acme'], ttlSeconds: 3600 });
    const put = await fetch(`${base}/v1/secrets/STRIPE_WEBHOOK_SECRET`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${token}`,
        'x-tenant-id': 'acme',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ value: HOOK_SECRET }),
    });
    if (!put.ok) throw new Error(`setting the webhook secret answered ${put.status}: ${await put.text()}`);

    // The deliveries: each event once, a share of them twice (same bytes, as a provider retries).
    const runId = `${process.pid}_${Date.now()}`;
    const bodies: { id: string; body: string }[] = [];
    for (let i = 0; i < options.deliveries; i++) {
      const id = `evt_flood_${runId}_${i}`;
      bodies.push({
        id,
        body: JSON.stringify({
          id,
          object: 'event',
          type: 'payment_intent.succeeded',
          created: Math.floor(Date.now() / 1000),
          data: { object: { id: `pi_${i}`, object: 'payment_intent', amount: 100 + i, currency: 'eur' } },
        }),
      });
    }
    const queue: { id: string; body: string }[] = [...bodies];
    const twice = Math.round(options.deliveries * options.duplicates);
    for (let i = 0; i < twice; i++) queue.push(bodies[Math.floor((i * bodies.length) / Math.max(twice, 1))]!);
    // Interleave: duplicates arrive among the originals, some before them.
    for (let i = queue.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [queue[i], queue[j]] = [queue[j]!, queue[i]!];
    }

    const accepted = new Set<string>();
    const otherAnswers: Record<string, number> = {};
    let answered2xx = 0;
    let retries = 0;
    let next = 0;
    const began = Date.now();
    let pool = new Pool(base, { connections: options.concurrency });
    const deliver = async (d: { id: string; body: string }) => {
      for (let attempt = 0; attempt < 200; attempt++) {
        const signature = stripe.webhooks.generateTestHeaderString({ payload: d.body, secret: HOOK_SECRET });
        try {
          const res = await pool.request({
            method: 'POST',
            path: '/v1/webhooks/stripe?tenantId=acme',
            headers: { 'content-type': 'application/json', 'stripe-signature': signature },
            body: d.body,
          });
          await res.body.dump();
          if (res.statusCode >= 200 && res.statusCode < 300) {
            answered2xx++;
            accepted.add(d.id);
            return;
          }
          otherAnswers[res.statusCode] = (otherAnswers[res.statusCode] ?? 0) + 1;
          if (res.statusCode < 500 && res.statusCode !== 429) return;
        } catch {
          // The server died under the request: a provider sends it again later.
        }
        retries++;
        await new Promise((r) => setTimeout(r, 100 + attempt * 50));
      }
      throw new Error(`delivery ${d.id} was never answered`);
    };
    const killAt = Array.from({ length: options.kills }, (_, k) =>
      Math.floor(((k + 1) * queue.length) / (options.kills + 1)),
    );
    const monkey = (async () => {
      for (const at of killAt) {
        while (next < at) await new Promise((r) => setTimeout(r, 20));
        log(`killing the API process after ${next} deliveries`);
        await server!.stop('SIGKILL');
        const t0 = Date.now();
        await pool.destroy().catch(() => {});
        pool = new Pool(base, { connections: options.concurrency });
        await start();
        restartSeconds.push((Date.now() - t0) / 1000);
      }
    })();
    const senders = Array.from({ length: options.concurrency }, async () => {
      while (next < queue.length) await deliver(queue[next++]!);
    });
    await Promise.all([...senders, monkey]);
    await pool.close();
    const seconds = (Date.now() - began) / 1000;

    const events = await admin.query<{ event_id: string; n: string }>(
      `select event_id, count(*) as n from webhook_events where tenant_id = 'acme' and route_id = 'stripe' group by event_id`,
    );
    const runs = await admin.query<{ event_id: string; n: string }>(
      `select trigger->>'eventId' as event_id, count(*) as n from workflow_runs
        where tenant_id = 'acme' and workflow_id = 'WF-900' group by 1`,
    );
    const eventCount = new Map(events.rows.map((r) => [r.event_id, Number(r.n)]));
    const runCount = new Map(runs.rows.map((r) => [r.event_id, Number(r.n)]));
    const doubled = [...new Set([...eventCount, ...runCount].filter(([, n]) => n > 1).map(([id]) => id))];
    const lost = [...accepted].filter((id) => !eventCount.has(id) || !runCount.has(id));
    return {
      sent: queue.length,
      answered2xx,
      distinctAccepted: accepted.size,
      duplicatesSent: twice,
      retriesAfterNetworkErrors: retries,
      otherAnswers,
      eventRows: events.rows.reduce((a, r) => a + Number(r.n), 0),
      runs: runs.rows.reduce((a, r) => a + Number(r.n), 0),
      doubled,
      lost,
      restartSeconds,
      seconds,
    };
  } finally {
    await server?.stop('SIGTERM');
    await admin.end();
    await fs.rm(home, { recursive: true, force: true });
  }
}
