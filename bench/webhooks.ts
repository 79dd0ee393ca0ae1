import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import Stripe from 'stripe';
import { loadConfig } from '../engine/config.ts';
import { generateKey } from '../engine/crypto/index.ts';
import { type Knex, makeDb } from '../engine/db/knex.ts';
import { migrateUp } from '../engine/db/migrate.ts';
import { startEngine } from '../engine/engine.ts';
import { makeLogger } from '../engine/log.ts';
import { bareKoa, benchDatabase, type LoadFigures, listen, loadInChild, postLoad } from './support.ts';

const { values: knobs, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    duration: { type: 'string', default: '8' },
    connections: { type: 'string', default: '50' },
    'pool-size': { type: 'string', default: '20' },
  },
});
const DURATION_S = Number(knobs.duration);
const CONNECTIONS = Number(knobs.connections);
const POOL_SIZE = Number(knobs['pool-size']);
const TENANT = 'bench';
const SECRET = 'whsec_benchBenchBench0123456789abcdef';
const stripe = new Stripe('sk_test_x'); // offline: only its test-header signer is used

let sequence = 0;

/** A fresh payment_intent.succeeded and its Stripe-Signature, per request. */
function signedDelivery(): { body: string; headers: Record<string, string> } {
  sequence += 1;
  const body = JSON.stringify({
    id: `evt_bench_${process.pid}_${sequence}`,
    object: 'event',
    api_version: '2024-06-20',
    created: Math.floor(Date.now() / 1000),
    type: 'payment_intent.succeeded',
    livemode: false,
    pending_webhooks: 1,
    data: {
      object: {
        id: `pi_bench_${sequence}`,
        object: 'payment_intent',
        amount: 4200,
        amount_received: 4200,
        currency: 'eur',
        customer: 'cus_bench',
        status: 'succeeded',
        metadata: { order: String(sequence) },
      },
    },
  });
  const signature = stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET });
  return { body, headers: { 'content-type': 'application/json', 'stripe-signature': signature } };
}

function measure(url: string): Promise<LoadFigures> {
  return loadInChild([import.meta.filename, 'load', url], DURATION_S, CONNECTIONS);
}

/** Serves `handler`, counting requests still being handled (their transactions may outlive the socket). */
function tracked(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>) {
  let inflight = 0;
  return {
    handler(req: IncomingMessage, res: ServerResponse) {
      inflight += 1;
      void handler(req, res).finally(() => {
        inflight -= 1;
      });
    },
    async drained(): Promise<void> {
      while (inflight > 0) await new Promise((r) => setTimeout(r, 20));
    },
  };
}

async function count(
  db: Knex,
  table: string,
  where: string,
  bindings: Knex.RawBinding[] = [],
): Promise<number> {
  const { rows } = await db.raw<{ rows: Array<{ n: number }> }>(
    `select count(*)::int as n from ${table} where ${where}`,
    bindings,
  );
  return rows[0]!.n;
}

function line(name: string, f: LoadFigures): string {
  return `${name.padEnd(30)} ${f.rps.toFixed(0).padStart(6)} /s   p50 ${String(f.p50).padStart(3)} ms   p99 ${String(f.p99).padStart(3)} ms   2xx ${f.ok}   failed ${f.failed}`;
}

async function stored(db: Knex) {
  return {
    events: await count(db, 'webhook_events', 'tenant_id = ?', [TENANT]),
    runs: await count(db, 'workflow_runs', "tenant_id = ? and workflow_id = 'WF-021'", [TENANT]),
    jobs: await count(db, 'graphile_worker._private_jobs', "payload->>'tenantId' = ?", [TENANT]),
    audited: await count(db, 'audit_log', "tenant_id = ? and action = 'webhook.receive'", [TENANT]),
  };
}

type Stored = Awaited<ReturnType<typeof stored>>;

/**
 * A run's queue job follows its commit through the run outbox (batched, within a second):
 * count once every committed run has its job, or after 10 s, whichever comes first.
 */
async function settled(db: Knex, before: Stored): Promise<Stored> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const now = await stored(db);
    if (now.jobs - before.jobs >= now.runs - before.runs || Date.now() > deadline) return now;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function report(db: Knex, atlas: LoadFigures, bare: LoadFigures, before: Stored): Promise<void> {
  console.log(
    `Stripe webhooks vs bare Koa, ${CONNECTIONS} connections, ${DURATION_S} s each, loopback, ${os.cpus().length} cores, pool ${POOL_SIZE}`,
  );
  console.log(line('bare Koa (read body, 200)', bare));
  console.log(line('POST /v1/webhooks/stripe', atlas));
  console.log(`ratio ${(atlas.rps / bare.rps).toFixed(3)} of bare req/s; target 5,000 events/s, p99 < 25 ms`);
  console.log(
    `load average while measuring: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const after = await settled(db, before);
  const added = {
    events: after.events - before.events,
    runs: after.runs - before.runs,
    jobs: after.jobs - before.jobs,
    audited: after.audited - before.audited,
  };
  // The server may commit a few deliveries whose answers arrived after the client stopped.
  const consistent = Object.values(added).every((n) => n === added.events) && added.events >= atlas.ok;
  console.log(
    `committed: events ${added.events}, runs ${added.runs}, queue jobs ${added.jobs}, audit rows ${added.audited} for ${atlas.ok} answered 2xx: ${consistent ? 'consistent' : 'INCONSISTENT'}`,
  );
  if (!consistent || atlas.failed > 0) process.exitCode = 1;
}

async function main(): Promise<void> {
  const pgInstance = await benchDatabase('atlas_bench_webhooks');
  const config = loadConfig({
    DATABASE_URL: pgInstance.url,
    LOG_LEVEL: 'info',
    ATLAS_ENCRYPTION_KEY: generateKey(),
    // No worker runs here, so no run ends: without room, the tenant's limit of runs in flight
    // would hold all but the first runs in the outbox, and the check below wants each queued.
    ATLAS_TENANT_RUNS_IN_FLIGHT: '1000000',
  });
  const log = makeLogger(config.logLevel, false);
  const db = makeDb(pgInstance.url, { poolSize: POOL_SIZE });
  await migrateUp(db, pgInstance.url);
  await db('tenants').insert({ id: TENANT, name: 'Bench' }).onConflict('id').ignore();
  await db('tenant_workflows')
    .insert({ tenant_id: TENANT, workflow_id: 'WF-021', enabled: true })
    .onConflict(['tenant_id', 'workflow_id'])
    .merge();
  // The API role as `atlas serve` builds it, served here to count requests in flight.
  const engine = await startEngine({
    config,
    log,
    http: true,
    worker: false,
    listen: false,
    database: { db, url: pgInstance.url },
  });
  await engine.services.secrets.put(TENANT, 'STRIPE_WEBHOOK_SECRET', SECRET);
  const atlasHandler = tracked(engine.app!.callback());
  const api = await listen(atlasHandler.handler);
  const bare = await listen(bareKoa().callback());
  try {
    const bareLoadFigures = await measure(bare.url);
    const before = await stored(db);
    const atlasLoadFigures = await measure(`${api.url}/v1/webhooks/stripe?tenantId=${TENANT}`);
    await atlasHandler.drained();
    await report(db, atlasLoadFigures, bareLoadFigures, before);
  } finally {
    for (const s of [api.server, bare.server]) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
    await engine.stop();
    await db.destroy();
    await pgInstance.stop();
  }
}

if (positionals[0] === 'load') await postLoad(positionals[1]!, DURATION_S, CONNECTIONS, signedDelivery);
else await main();
