/**
 * End to end: an HMAC-signed webhook starting a 3-step workflow, run to `succeeded`, in one
 * process serving the API and the worker (as `atlas serve` does), beside bare Koa in the same run.
 *
 *   npm run bench:e2e -- [--seconds 60] [--connections 10,50] [--concurrency 64] [--pool-size 20]
 *
 * For each number of connections: accepted/s, completed/s (runs that reached `succeeded`
 * while the load ran), the backlog (accepted runs not finished) halfway and at the end, then,
 * once the backlog drained, rows and WAL bytes written per run, and PostgreSQL's side over the
 * load (its backends' CPU and time by statement, per completed run). fsync on, JSON logging
 * (to a file), metrics and audit on.
 */
import { createHmac } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig } from '../engine/config.ts';
import { generateKey } from '../engine/crypto/index.ts';
import { type Knex, makeDb } from '../engine/db/knex.ts';
import { migrateUp } from '../engine/db/migrate.ts';
import { startEngine } from '../engine/engine.ts';
import { formatPgSide, watchPostgres } from './pg-side.ts';
import {
  bareKoa,
  benchDatabase,
  type LoadFigures,
  listen,
  loadAverage,
  loadInChild,
  postLoad,
  writeSnapshot,
  writesPerRun,
} from './support.ts';

const { values: knobs, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '60' },
    duration: { type: 'string' },
    connections: { type: 'string', default: '10,50' },
    concurrency: { type: 'string', default: '64' },
    'pool-size': { type: 'string', default: '20' },
  },
});
const SECONDS = Number(knobs.duration ?? knobs.seconds);
const CONNECTIONS = knobs.connections.split(',').map(Number);
const TENANT = 'bench';
const SECRET = 'e2e bench hmac secret 0123456789';

const ROUTE = `apiVersion: atlas/v1
kind: WebhookRoute
id: e2e
path: /v1/webhooks/e2e
verify: { method: hmac-sha256, secret: E2E_WEBHOOK_SECRET, header: x-signature, prefix: sha256= }
event: { id: body.id, type: body.type }
tenant: { from: query.tenantId }
`;

const WORKFLOW = `apiVersion: atlas/v1
kind: Workflow
id: WF-970
trigger: { type: webhook, route: e2e, events: [order.paid] }
steps:
  - { id: order, uses: core.set, with: { value: "{{ trigger.body.data }}" } }
  - { id: total, uses: core.set, with: { value: { cents: "{{ steps.order.output.amount }}" } } }
  - { id: done, uses: core.noop, with: { order: "{{ steps.order.output.id }}" } }
`;

let sequence = 0;

/** A fresh signed `order.paid` event per request. */
function signedDelivery(): { body: string; headers: Record<string, string> } {
  sequence += 1;
  const body = JSON.stringify({
    id: `evt_${process.pid}_${sequence}`,
    type: 'order.paid',
    data: { id: `ord_${sequence}`, amount: 4200, currency: 'eur' },
  });
  const signature = createHmac('sha256', SECRET).update(body).digest('hex');
  return { body, headers: { 'content-type': 'application/json', 'x-signature': `sha256=${signature}` } };
}

async function runCounts(db: Knex): Promise<{ total: number; succeeded: number; open: number }> {
  const { rows } = await db.raw<{ rows: Array<{ total: number; succeeded: number; open: number }> }>(
    `select count(*)::int as total, (count(*) filter (where status = 'succeeded'))::int as succeeded,
            (count(*) filter (where status in ('queued', 'running')))::int as open
       from workflow_runs where tenant_id = ?`,
    [TENANT],
  );
  return rows[0]!;
}

async function drained(db: Knex): Promise<void> {
  const deadline = Date.now() + 600_000;
  while ((await runCounts(db)).open > 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 200));
}

const rate = (n: number) => `${(n / SECONDS).toFixed(0)}/s`;

async function phase(db: Knex, url: string, bareUrl: string, connections: number): Promise<void> {
  const bare = await loadInChild([import.meta.filename, 'load', bareUrl], Math.min(SECONDS, 10), connections);
  const before = await writeSnapshot(db);
  const pgSide = await watchPostgres(db);
  const start = await runCounts(db);
  const load = loadInChild(
    [import.meta.filename, 'load', `${url}/v1/webhooks/e2e?tenantId=${TENANT}`],
    SECONDS,
    connections,
  );
  await new Promise((r) => setTimeout(r, (SECONDS * 1000) / 2));
  const half = await runCounts(db);
  const atlas: LoadFigures = await load;
  const end = await runCounts(db);
  const side = await pgSide();
  const loadAvg = loadAverage();
  await drained(db);
  const after = await runCounts(db);
  const runs = after.total - start.total;
  const writes = await writesPerRun(db, before, await writeSnapshot(db), runs);
  console.log(`\n${connections} connections, ${SECONDS} s (bare Koa ${Math.min(SECONDS, 10)} s)`);
  console.log(
    `  bare Koa (read body, 200)   ${bare.rps.toFixed(0).padStart(6)} req/s  p50 ${bare.p50} ms  p99 ${bare.p99} ms`,
  );
  console.log(
    `  Atlas accepted              ${atlas.rps.toFixed(0).padStart(6)} req/s  p50 ${atlas.p50} ms  p99 ${atlas.p99} ms  non-2xx ${atlas.failed}  (${((100 * atlas.rps) / bare.rps).toFixed(1)}% of bare)`,
  );
  console.log(
    `  Atlas completed             ${rate(end.succeeded - start.succeeded).padStart(8)}  backlog ${half.open} halfway, ${end.open} at the end`,
  );
  console.log(
    `  writes per run: ${writes.rows.toFixed(1)} rows, ${(writes.walBytes / 1024).toFixed(1)} KB of WAL (${writes.byTable})`,
  );
  console.log(`  load average at the end of the load: ${loadAvg}`);
  // PostgreSQL's side over the load, per run completed meanwhile (intake included).
  console.log(
    formatPgSide(side, end.succeeded - start.succeeded)
      .replace(/per request/g, 'per completed run')
      .replace(/^/gm, '  '),
  );
  if (atlas.failed > 0 || after.total - start.total < atlas.ok) process.exitCode = 1;
}

async function main(): Promise<void> {
  const pgInstance = await benchDatabase('atlas_bench_e2e');
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-e2e-'));
  await fs.mkdir(path.join(home, 'manifests'));
  await fs.writeFile(path.join(home, 'manifests', 'route.yaml'), ROUTE);
  await fs.writeFile(path.join(home, 'manifests', 'workflow.yaml'), WORKFLOW);
  const config = loadConfig({
    DATABASE_URL: pgInstance.url,
    ATLAS_HOME: home,
    ATLAS_MANIFESTS: path.join(home, 'manifests'),
    ATLAS_ENCRYPTION_KEY: generateKey(),
    ATLAS_WORKER_CONCURRENCY: knobs.concurrency,
  });
  const logFile = path.join(home, 'atlas.log');
  const log = pino(
    { level: 'info', base: { service: 'atlas' } },
    pino.destination({ dest: logFile, sync: false }),
  );
  const db = makeDb(pgInstance.url, { poolSize: Number(knobs['pool-size']) });
  await migrateUp(db, pgInstance.url);
  await db('tenants').insert({ id: TENANT, name: 'Bench' }).onConflict('id').ignore();
  await db('tenant_workflows').insert({ tenant_id: TENANT, workflow_id: 'WF-970', enabled: true });
  const engine = await startEngine({
    config,
    log,
    http: true,
    worker: true,
    schedules: false,
    listen: false,
    database: { db, url: pgInstance.url },
  });
  await engine.services.secrets.put(TENANT, 'E2E_WEBHOOK_SECRET', SECRET);
  const api = await listen(engine.app!.callback());
  const bare = await listen(bareKoa().callback());
  console.log(
    `Signed webhook -> 3-step run -> succeeded, one process (API + worker, concurrency ${knobs.concurrency}), ${os.cpus().length} cores, fsync on`,
  );
  try {
    for (const connections of CONNECTIONS) await phase(db, api.url, bare.url, connections);
  } finally {
    for (const s of [api.server, bare.server]) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
    await engine.stop();
    await db.destroy();
    await pgInstance.stop();
    await fs.rm(home, { recursive: true, force: true });
  }
}

if (positionals[0] === 'load') await postLoad(positionals[1]!, SECONDS, CONNECTIONS[0]!, signedDelivery);
else await main();
