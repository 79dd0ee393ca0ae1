// What the benchmarks share: their database, the API they measure and their loopback servers.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import Koa from 'koa';
import pg from 'pg';
import { mintToken } from '../engine/auth/mint.ts';
import { type Config, environment, loadConfig } from '../engine/config.ts';
import { startEmbeddedPostgres } from '../engine/db/embedded.ts';
import { type Knex, makeDb } from '../engine/db/knex.ts';
import { migrateUp } from '../engine/db/migrate.ts';
import { type RunningEngine, startEngine } from '../engine/engine.ts';
import { makeLogger } from '../engine/log.ts';

/** WF-950: three `core.noop` steps, each checkpointed; the engine benchmarks' workflow. */
export const THREE_NOOP_STEPS = `apiVersion: atlas/v1
kind: Workflow
id: WF-950
trigger: { type: manual }
steps:
  - { id: one, uses: core.noop }
  - { id: two, uses: core.noop }
  - { id: three, uses: core.noop }
`;

/**
 * The database of a benchmark: DATABASE_URL when set, else a fresh embedded PostgreSQL
 * (fsync on, as a user would run it) with one database, removed afterwards.
 */
export async function benchDatabase(name: string): Promise<{ url: string; stop(): Promise<void> }> {
  const { databaseUrl } = loadConfig(environment());
  if (databaseUrl) return { url: databaseUrl, stop: async () => {} };
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-bench-'));
  await fs.chmod(dir, 0o755);
  const embedded = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'pg'),
    // pg_stat_statements lets bench/profile.ts show PostgreSQL's time by statement.
    settings: {
      max_connections: '200',
      shared_preload_libraries: 'pg_stat_statements',
      'pg_stat_statements.track_planning': 'on',
    },
  });
  const admin = new pg.Client(embedded.url);
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(embedded.url);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    stop: async () => {
      await embedded.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** An HTTP server on a free loopback port. */
export async function listen(
  handler: Parameters<typeof createServer>[1],
): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

/**
 * The API role alone over the benchmark's database (migrated, with the `bench` tenant),
 * served on a free loopback port, logging JSON at the configured level as `atlas serve` does;
 * `close` stops the server, the engine and the pool.
 */
export async function benchApi(
  databaseUrl: string,
  config: Config,
): Promise<{ db: Knex; engine: RunningEngine; url: string; close(): Promise<void> }> {
  const db = makeDb(databaseUrl, { poolSize: 20 });
  await migrateUp(db, databaseUrl);
  await db('tenants').insert({ id: 'bench', name: 'Bench' }).onConflict('id').ignore();
  const engine = await startEngine({
    config,
    log: makeLogger(config.logLevel, false),
    http: true,
    worker: false,
    listen: false,
    database: { db, url: databaseUrl },
  });
  const api = await listen(engine.app!.callback());
  return {
    db,
    engine,
    url: api.url,
    async close() {
      api.server.closeAllConnections();
      await new Promise((resolve) => api.server.close(resolve));
      await engine.stop();
      await db.destroy();
    },
  };
}

/** What a load generator child reports: accepted/s, latency, answers. */
export interface LoadFigures {
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  failed: number;
}

/** An autocannon result as {@link LoadFigures}. */
export function loadFigures(result: autocannon.Result, durationS: number): LoadFigures {
  return {
    rps: result['2xx'] / durationS,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    failed: result.non2xx + result.errors + result.timeouts,
  };
}

/**
 * Runs a load generator in a child process (this Node, `args`, the duration and connections
 * as flags) so that making requests does not eat the server's event loop; its last stdout
 * line is its figures.
 */
export function loadInChild(args: string[], durationS: number, connections: number): Promise<LoadFigures> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...process.execArgv, ...args, `--duration=${durationS}`, `--connections=${connections}`],
      { timeout: (durationS + 60) * 1000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`the load generator failed: ${stderr || err.message}`));
        else resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as LoadFigures);
      },
    );
  });
}

/** What PostgreSQL wrote: the WAL position and the rows inserted, updated and deleted per table. */
export interface WriteSnapshot {
  lsn: string;
  tables: Map<string, { ins: number; upd: number; del: number }>;
}

/**
 * Reads the WAL position and `pg_stat_user_tables`. A backend that reported its table
 * counters less than a second ago reports the rest once idle for 10 s, so this waits 11 s
 * first: the snapshot then holds every write made before it was called.
 */
export async function writeSnapshot(db: Knex): Promise<WriteSnapshot> {
  await new Promise((r) => setTimeout(r, 11_000));
  const { rows } = await db.raw<{ rows: Array<{ t: string; ins: string; upd: string; del: string }> }>(
    `select schemaname || '.' || relname as t, n_tup_ins as ins, n_tup_upd as upd, n_tup_del as del
       from pg_stat_user_tables`,
  );
  const tables = new Map(
    rows.map((r) => [r.t, { ins: Number(r.ins), upd: Number(r.upd), del: Number(r.del) }]),
  );
  const { rows: at } = await db.raw<{ rows: Array<{ lsn: string }> }>('select pg_current_wal_lsn() as lsn');
  return { lsn: at[0]!.lsn, tables };
}

/** Rows written (inserted + updated + deleted, by table) and WAL bytes per run between two snapshots. */
export async function writesPerRun(
  db: Knex,
  before: WriteSnapshot,
  after: WriteSnapshot,
  runs: number,
): Promise<{ rows: number; walBytes: number; byTable: string }> {
  const { rows } = await db.raw<{ rows: Array<{ bytes: string }> }>(
    'select pg_wal_lsn_diff(?::pg_lsn, ?::pg_lsn) as bytes',
    [after.lsn, before.lsn],
  );
  let total = 0;
  const parts: string[] = [];
  for (const [table, a] of after.tables) {
    const b = before.tables.get(table) ?? { ins: 0, upd: 0, del: 0 };
    const ins = (a.ins - b.ins) / runs;
    const upd = (a.upd - b.upd) / runs;
    const del = (a.del - b.del) / runs;
    if (ins + upd + del < 0.05) continue;
    total += ins + upd + del;
    const name = table.replace(/^public\./, '').replace(/^graphile_worker\./, 'graphile.');
    parts.push(`${name} +${ins.toFixed(1)}/~${upd.toFixed(1)}/-${del.toFixed(1)}`);
  }
  return { rows: total, walBytes: Number(rows[0]!.bytes) / runs, byTable: parts.join(', ') };
}

/** The load average, for every figure a benchmark prints. */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
}

/** The webhook baseline: Koa reading the raw body and answering 200, nothing else. */
export function bareKoa(): Koa {
  const app = new Koa();
  app.use(async (ctx) => {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
    ctx.body = { received: Buffer.concat(chunks).length > 0 };
  });
  return app;
}

/**
 * The load generator's side of {@link loadInChild}: POSTs a fresh request from `make` on every
 * connection for `durationS`, then prints its figures as one JSON line.
 */
export async function postLoad(
  url: string,
  durationS: number,
  connections: number,
  make: () => { body: string; headers: Record<string, string> },
): Promise<void> {
  const result = await autocannon({
    url,
    connections,
    duration: durationS,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const { body, headers } = make();
          return { ...req, body, headers: { ...req.headers, ...headers } };
        },
      },
    ],
  });
  process.stdout.write(`${JSON.stringify(loadFigures(result, durationS))}\n`);
}

/** The JWT secret the API benchmarks sign their tokens with. */
export const BENCH_JWT_SECRET = 'atlas-bench-secret-0123456789abcdef';

/** Headers of a JSON request as tenant `bench`, with a token valid for the run. */
export async function benchHeaders(): Promise<Record<string, string>> {
  const token = await mintToken({
    secret: BENCH_JWT_SECRET,
    sub: 'bench',
    tenants: ['bench'],
    ttlSeconds: 600,
  });
  return { authorization: `Bearer ${token}`, 'x-tenant-id': 'bench', 'content-type': 'application/json' };
}
