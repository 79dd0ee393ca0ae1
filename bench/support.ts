// What the benchmarks share: their database, the API they measure and their loopback servers.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type autocannon from 'autocannon';
import pg from 'pg';
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
    settings: { max_connections: '200' },
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
