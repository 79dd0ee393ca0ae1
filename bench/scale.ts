/**
 * Scale-out: runs/s with 1, 2 and 4 `atlas worker` processes on the same PostgreSQL, in one
 * run, as a table with the ratio against one worker and the load average.
 *
 *   npm run bench:scale -- [--runs 3000] [--workers 1,2,4] [--tenants 8] [--callers 32]
 *
 * Each round starts its workers (real `atlas worker` processes, default concurrency), waits
 * until each beats, runs a warm-up, then triggers `--runs` three-step `core.noop` runs from
 * this process (spread over `--tenants` tenants, with their default limits) and measures from
 * the first trigger to the last run finished. fsync stays on.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../engine/config.ts';
import { makeDb } from '../engine/db/knex.ts';
import { migrateUp } from '../engine/db/migrate.ts';
import { startEngine } from '../engine/engine.ts';
import { silentLogger } from '../engine/log.ts';
import type { Runtime } from '../engine/runtime/index.ts';
import { cliEnv, type LongRunning, startCli } from '../test/helpers/cli.ts';
import { benchDatabase, THREE_NOOP_STEPS } from './support.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3000' },
    workers: { type: 'string', default: '1,2,4' },
    tenants: { type: 'string', default: '8' },
    callers: { type: 'string', default: '32' },
  },
});
const RUNS = Number(values.runs);
const ROUNDS = values.workers.split(',').map(Number);
const TENANTS = Array.from({ length: Number(values.tenants) }, (_, i) => `scale-${i + 1}`);
const CALLERS = Number(values.callers);

type Db = ReturnType<typeof makeDb>;

/** Triggers `n` runs tagged `round` from concurrent callers; resolves when all have ended. */
async function runRound(runtime: Runtime, db: Db, round: string, n: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      for (let i = next++; i < n; i = next++) {
        const tenantId = TENANTS[i % TENANTS.length]!;
        await runtime.trigger({ tenantId, workflowId: 'WF-950', input: { round } });
      }
    }),
  );
  for (;;) {
    const [row] = await db('workflow_runs')
      .whereRaw("input ->> 'round' = ?", [round])
      .whereIn('status', ['succeeded', 'failed'])
      .count({ n: '*' });
    if (Number(row?.n) >= n) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return (performance.now() - started) / 1000;
}

/** Starts `n` workers and resolves once each has beaten. */
async function startWorkers(db: Db, env: NodeJS.ProcessEnv, n: number): Promise<LongRunning[]> {
  await db('worker_heartbeats').delete();
  const workers = Array.from({ length: n }, () => startCli(['worker'], env));
  const deadline = Date.now() + 120_000;
  for (;;) {
    const [row] = await db('worker_heartbeats').count({ n: '*' });
    if (Number(row?.n) >= n) return workers;
    if (Date.now() > deadline) throw new Error(`workers did not start:\n${workers[0]?.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-scale-'));
await fs.mkdir(path.join(home, 'manifests'));
await fs.writeFile(path.join(home, 'manifests', 'WF-950.yaml'), THREE_NOOP_STEPS);
const database = await benchDatabase('atlas_bench_scale');
const db = makeDb(database.url, { poolSize: 10 });
const vars = {
  DATABASE_URL: database.url,
  ATLAS_HOME: home,
  ATLAS_MANIFESTS: path.join(home, 'manifests'),
  ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
};
try {
  await migrateUp(db, database.url);
  await db('tenants').insert(TENANTS.map((id) => ({ id, name: id })));
  // This process only triggers (and dispatches, as the API would): no worker role.
  const engine = await startEngine({
    config: loadConfig(vars),
    log: silentLogger,
    http: false,
    worker: false,
    schedules: false,
    database: { db, url: database.url },
  });
  const figures: Array<{ workers: number; rate: number; load: number }> = [];
  try {
    for (const n of ROUNDS) {
      const workers = await startWorkers(db, cliEnv({ ...vars, LOG_LEVEL: 'warn' }), n);
      try {
        await runRound(engine.runtime, db, `warm-${n}`, 200);
        const seconds = await runRound(engine.runtime, db, `round-${n}`, RUNS);
        figures.push({ workers: n, rate: RUNS / seconds, load: os.loadavg()[0]! });
        console.log(`  ${n} worker(s): ${RUNS} runs in ${seconds.toFixed(1)} s`);
      } finally {
        await Promise.all(workers.map((w) => w.stop('SIGTERM')));
      }
    }
  } finally {
    await engine.stop();
  }
  const base = figures[0]!.rate;
  console.log(
    `\nScale-out: ${RUNS} three-step runs per round, ${TENANTS.length} tenants, ${os.cpus().length} cores`,
  );
  console.log('| workers | runs/s | ratio to 1 worker | load average (1 min) |');
  console.log('| ---: | ---: | ---: | ---: |');
  for (const f of figures)
    console.log(
      `| ${f.workers} | ${f.rate.toFixed(0)} | ${(f.rate / base).toFixed(2)} | ${f.load.toFixed(1)} |`,
    );
} finally {
  await db.destroy();
  await database.stop();
  await fs.rm(home, { recursive: true, force: true });
}
