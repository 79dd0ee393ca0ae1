/**
 * Engine throughput against raw graphile-worker, on the same PostgreSQL in the same run.
 *
 *   npx tsx bench/engine.ts [--runs 3000] [--concurrency 64] [--raw-jobs 20000] [--callers 32]
 *
 * 1. raw: no-op graphile-worker jobs/s (jobs added in batches, then drained);
 * 2. engine: a 3-step workflow of `core.noop` steps (pure: written once, with the run's end).
 *    First the engine alone: the runs triggered with no worker running, then a worker started
 *    and timed until the last one ended. Then trigger to finished: triggered through the
 *    runtime by concurrent callers while the worker runs; runs/s, steps/s, the per-step ratio
 *    against raw jobs/s, rows and WAL bytes per run;
 * 3. latency: p50/p99 from trigger to finished run at a moderate, paced load;
 * 4. loop: one run with a `forEach` of `core.noop` items (1,000 at concurrency 50 by
 *    default), items/s beside the plain steps/s of case 2.
 * Same worker settings for both. fsync stays on: this is the database a user would run.
 * Case 2 also prints PostgreSQL's side per run, for each part: its backends' CPU and its time by statement
 * (planning and execution, from pg_stat_statements).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { makeWorkerUtils } from 'graphile-worker';
import { loadConfig } from '../engine/config.ts';
import { makeDb } from '../engine/db/knex.ts';
import { migrateUp } from '../engine/db/migrate.ts';
import { startEngine } from '../engine/engine.ts';
import { silentLogger } from '../engine/log.ts';
import { graphileLogger, startRunner } from '../engine/queue/runner.ts';
import type { Runtime } from '../engine/runtime/index.ts';
import { formatPgSide, watchPostgres } from './pg-side.ts';
import { benchDatabase, loadAverage, THREE_NOOP_STEPS, writeSnapshot, writesPerRun } from './support.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '64' },
    'raw-jobs': { type: 'string', default: '20000' },
    'latency-rate': { type: 'string', default: '100' },
    callers: { type: 'string', default: '32' },
    'loop-items': { type: 'string', default: '1000' },
    'loop-concurrency': { type: 'string', default: '50' },
  },
});
const RUNS = Number(values.runs);
const CONCURRENCY = Number(values.concurrency);
const RAW_JOBS = Number(values['raw-jobs']);
const LATENCY_RATE = Number(values['latency-rate']);
const CALLERS = Number(values.callers);
const LOOP_ITEMS = Number(values['loop-items']);
const LOOP_CONCURRENCY = Number(values['loop-concurrency']);

const LOOP_WORKFLOW = `apiVersion: atlas/v1
kind: Workflow
id: WF-951
trigger: { type: manual }
steps:
  - id: each
    uses: core.noop
    forEach: "{{ input.items }}"
    maxItems: 10000
    concurrency: ${LOOP_CONCURRENCY}
`;

async function main(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-bench-'));
  await fs.chmod(dir, 0o755);
  await fs.mkdir(path.join(dir, 'manifests'));
  await fs.writeFile(path.join(dir, 'manifests', 'wf.yaml'), THREE_NOOP_STEPS);
  await fs.writeFile(path.join(dir, 'manifests', 'loop.yaml'), LOOP_WORKFLOW);
  const pg = await benchDatabase('atlas_bench_engine');
  try {
    const url = pg.url;
    const db = makeDb(url, { poolSize: 20 });
    await migrateUp(db, url);
    await db('tenants').insert({ id: 'bench', name: 'Bench' });
    console.log(
      `PostgreSQL embedded, fsync on; worker concurrency ${CONCURRENCY}, local queue ${4 * CONCURRENCY}`,
    );
    const raw = await rawThroughput(url);
    console.log(
      `raw graphile-worker: ${RAW_JOBS} no-op jobs in ${raw.seconds.toFixed(2)} s = ${raw.rate.toFixed(0)} jobs/s`,
    );
    const engine = await engineThroughput(url, db, dir);
    const stepsPerSecond = engine.rate * 3;
    console.log(
      `engine: ${RUNS} runs of 3 core.noop steps in ${engine.seconds.toFixed(2)} s = ${engine.rate.toFixed(0)} runs/s (${stepsPerSecond.toFixed(0)} steps/s)`,
    );
    console.log(`per-step ratio against raw graphile-worker: ${(stepsPerSecond / raw.rate).toFixed(2)}`);
    console.log(
      `latency at ${LATENCY_RATE} runs/s, trigger to finished: p50 ${engine.latency.p50.toFixed(1)} ms, p99 ${engine.latency.p99.toFixed(1)} ms (${engine.latency.n} runs)`,
    );
    const loopRate = LOOP_ITEMS / engine.loopSeconds;
    console.log(
      `loop: one run of ${LOOP_ITEMS} forEach items at concurrency ${LOOP_CONCURRENCY} in ${engine.loopSeconds.toFixed(2)} s = ${loopRate.toFixed(0)} items/s; plain ${stepsPerSecond.toFixed(0)} steps/s; ratio ${(loopRate / stepsPerSecond).toFixed(2)}`,
    );
    await db.destroy();
  } finally {
    await pg.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function rawThroughput(url: string): Promise<{ seconds: number; rate: number }> {
  const utils = await makeWorkerUtils({ connectionString: url, logger: graphileLogger(silentLogger) });
  for (let i = 0; i < RAW_JOBS; i += 1000) {
    const n = Math.min(1000, RAW_JOBS - i);
    await utils.addJobs(Array.from({ length: n }, () => ({ identifier: 'bench_noop', payload: {} })));
  }
  await utils.release();
  let done = 0;
  let finished!: () => void;
  const all = new Promise<void>((r) => {
    finished = r;
  });
  const started = performance.now();
  const runner = await startRunner({
    connectionString: url,
    concurrency: CONCURRENCY,
    taskList: {
      bench_noop: async () => {
        if (++done === RAW_JOBS) finished();
      },
    },
    log: silentLogger,
  });
  await all;
  const seconds = (performance.now() - started) / 1000;
  await runner.stop();
  return { seconds, rate: RAW_JOBS / seconds };
}

async function engineThroughput(url: string, db: ReturnType<typeof makeDb>, dir: string) {
  const config = loadConfig({
    DATABASE_URL: url,
    ATLAS_HOME: dir,
    ATLAS_MANIFESTS: path.join(dir, 'manifests'),
    ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
    ATLAS_WORKER_CONCURRENCY: String(CONCURRENCY),
  });
  // The worker role as `atlas worker` builds it, at the same concurrency as the raw runner;
  // its queue worker starts once the first runs wait.
  const engine = await startEngine({
    config,
    log: silentLogger,
    http: false,
    worker: false,
    schedules: false,
    database: { db, url },
  });
  const runtime = engine.runtime;
  // Triggers come from concurrent callers, as API requests would.
  const triggerAll = async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: CALLERS }, async () => {
        while (next++ < RUNS) await runtime.trigger({ tenantId: 'bench', workflowId: 'WF-950' });
      }),
    );
  };
  try {
    // The engine alone: runs already queued, from the worker's start to the last run's end.
    await triggerAll();
    const drainSide = await watchPostgres(db);
    const drainStarted = performance.now();
    await engine.startWorker();
    await waitAllFinished(db, RUNS);
    const drainSeconds = (performance.now() - drainStarted) / 1000;
    console.log(
      `engine alone: ${RUNS} queued runs drained in ${drainSeconds.toFixed(2)} s = ${(RUNS / drainSeconds).toFixed(0)} runs/s; load average ${loadAverage()}`,
    );
    console.log(formatPgSide(await drainSide(), RUNS).replace(/per request/g, 'per run'));
    const before = await writeSnapshot(db);
    const pgSide = await watchPostgres(db);
    const started = performance.now();
    await triggerAll();
    const triggered = (performance.now() - started) / 1000;
    await waitAllFinished(db, 2 * RUNS);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `  (all ${RUNS} triggers accepted after ${triggered.toFixed(2)} s = ${(RUNS / triggered).toFixed(0)} triggers/s)`,
    );
    const side = await pgSide();
    console.log(formatPgSide(side, RUNS).replace(/per request/g, 'per run'));
    const writes = await writesPerRun(db, before, await writeSnapshot(db), RUNS);
    console.log(
      `  writes per run: ${writes.rows.toFixed(1)} rows, ${(writes.walBytes / 1024).toFixed(1)} KB of WAL (${writes.byTable}); load average ${loadAverage()}`,
    );
    const latency = await pacedLatency(runtime, db);
    const loopStarted = performance.now();
    const items = Array.from({ length: LOOP_ITEMS }, (_, i) => i);
    const { run } = await runtime.trigger({ tenantId: 'bench', workflowId: 'WF-951', input: { items } });
    const loopRun = await runtime.waitForRun('bench', run.id, 600_000);
    if (loopRun?.status !== 'succeeded') throw new Error(`the loop run ended ${loopRun?.status}`);
    const loopSeconds = (performance.now() - loopStarted) / 1000;
    return { seconds, rate: RUNS / seconds, latency, loopSeconds };
  } finally {
    await engine.stop();
  }
}

async function waitAllFinished(db: ReturnType<typeof makeDb>, expected: number): Promise<void> {
  for (;;) {
    const [row] = await db('workflow_runs').whereIn('status', ['succeeded', 'failed']).count({ n: '*' });
    if (Number(row?.n) >= expected) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function pacedLatency(
  runtime: Runtime,
  db: ReturnType<typeof makeDb>,
): Promise<{ p50: number; p99: number; n: number }> {
  const seconds = 5;
  const ids: string[] = [];
  const gap = 1000 / LATENCY_RATE;
  const t0 = performance.now();
  for (let i = 0; i < LATENCY_RATE * seconds; i++) {
    const due = t0 + i * gap;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    runtime.trigger({ tenantId: 'bench', workflowId: 'WF-950' }).then(({ run }) => ids.push(run.id));
  }
  await waitAllFinished(db, 2 * RUNS + LATENCY_RATE * seconds);
  const rows = await db('workflow_runs')
    .whereIn('id', ids)
    .select(db.raw('extract(epoch from (finished_at - created_at)) * 1000 as ms'));
  const ms = rows.map((r: { ms: number }) => Number(r.ms)).sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), n: ms.length };
}

await main();
