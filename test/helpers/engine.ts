/**
 * An engine for a test file: `startEngine` with no role on the file's own database (the
 * real catalogue, connectors, secrets and runtime), and its worker on demand in this process.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Config, loadConfig } from '../../engine/config.ts';
import { type RunningEngine, startEngine } from '../../engine/engine.ts';
import { silentLogger } from '../../engine/log.ts';
import type { RunDetail, Runtime, TokenSource } from '../../engine/runtime/index.ts';
import type { Services } from '../../engine/services.ts';
import { localOnlyFetch } from '../hub/context.ts';
import type { TestDatabase } from './db.ts';

export interface TestEngine {
  config: Config;
  engine: RunningEngine;
  services: Services;
  runtime: Runtime;
  /** Starts the queue runner (and heartbeats) in this process; schedules stay off. */
  startWorker(concurrency?: number): Promise<void>;
  /** Triggers a run and waits until it ends. */
  runToEnd(workflowId: string, input?: unknown, tenantId?: string, timeoutMs?: number): Promise<RunDetail>;
  stop(): Promise<void>;
}

export interface TestEngineOptions {
  /** Manifest files to write into a temporary catalogue: name → YAML text. */
  manifests?: Record<string, string>;
  /** Catalogue directories instead (e.g. the shipped `manifests/`). */
  dirs?: string[];
  env?: Record<string, string>;
  /** Tenants to create (`acme` by default). */
  tenants?: string[];
  /** OAuth access tokens for OAuth connectors (google, social, Teams), instead of the engine's store. */
  tokens?: TokenSource;
  /** Build the HTTP API too (`engine.app`, not listening: serve it on a port of the test's). */
  http?: boolean;
  /** Run the change feed on this file's database (its replication slot). */
  feed?: boolean;
}

export async function startTestEngine(
  database: TestDatabase,
  opts: TestEngineOptions = {},
): Promise<TestEngine> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-engine-'));
  const dirs = opts.dirs ?? [path.join(home, 'manifests')];
  if (opts.manifests) {
    await fs.mkdir(dirs[0]!, { recursive: true });
    for (const [name, text] of Object.entries(opts.manifests))
      await fs.writeFile(path.join(dirs[0]!, name), text);
  }
  const config = loadConfig({
    DATABASE_URL: database.url,
    ATLAS_HOME: home,
    ATLAS_MANIFESTS: dirs.join(':'),
    ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    ATLAS_WORKER_CONCURRENCY: '4',
    ...opts.env,
  });
  const engine = await startEngine({
    config,
    log: silentLogger,
    http: opts.http ?? false,
    listen: false,
    ...(opts.feed ? { feed: true } : {}),
    worker: false,
    schedules: false,
    database,
    overrides: {
      ...(opts.tokens ? { tokens: opts.tokens } : {}),
      // A connector that ignored its configured base URL fails here instead of leaving the machine.
      fetchImpl: localOnlyFetch,
    },
  }).catch(async (err: unknown) => {
    await fs.rm(home, { recursive: true, force: true });
    throw err;
  });
  for (const id of opts.tenants ?? ['acme']) {
    await database.db('tenants').insert({ id, name: id }).onConflict('id').ignore();
  }
  const runtime = engine.runtime;
  return {
    config,
    engine,
    services: engine.services,
    runtime,
    startWorker: (concurrency) => engine.startWorker(concurrency),
    async runToEnd(workflowId, input = {}, tenantId = 'acme', timeoutMs = 20_000) {
      const { run } = await runtime.trigger({ tenantId, workflowId, input });
      const done = await runtime.waitForRun(tenantId, run.id, timeoutMs);
      if (!done) throw new Error(`run ${run.id} vanished`);
      return done;
    },
    async stop() {
      await engine.stop();
      await fs.rm(home, { recursive: true, force: true });
    },
  };
}

/**
 * The configuration of an engine a test serves as `atlas serve` would: on the test's database,
 * with its home (and `manifests/` inside it), on loopback with a free port, silent, signing
 * tokens with `jwtSecret`; `env` adds or overrides variables.
 */
export function servingConfig(
  databaseUrl: string,
  home: string,
  jwtSecret: string,
  env: Record<string, string> = {},
): Config {
  return loadConfig({
    DATABASE_URL: databaseUrl,
    ATLAS_MANIFESTS: path.join(home, 'manifests'),
    ...listeningEnv(home, jwtSecret),
    ...env,
  });
}

/**
 * The variables of an engine that listens on a port of its own on 127.0.0.1, logs nothing,
 * keeps its files in `home` and signs tokens with `jwtSecret`; the test adds its database,
 * catalogue and fakes. The encryption key is fixed, so an engine started again reads what the
 * first one stored.
 */
export function listeningEnv(home: string, jwtSecret: string): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    ATLAS_HOME: home,
    ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64'),
    ATLAS_JWT_SECRET: jwtSecret,
  };
}
