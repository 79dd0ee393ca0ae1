/**
 * An engine for a test file: the real services (catalogue, connectors, secrets, runtime)
 * on the file's own database, and a real graphile-worker runner in this process.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Runner, WorkerEvents } from 'graphile-worker';
import { type Config, loadConfig } from '../../engine/config.ts';
import { silentLogger } from '../../engine/log.ts';
import { startRunner } from '../../engine/queue/runner.ts';
import type { RunDetail, Runtime, TokenSource } from '../../engine/runtime/index.ts';
import { makeServices, type Services } from '../../engine/services.ts';
import { localOnlyFetch } from '../hub/context.ts';
import type { TestDatabase } from './db.ts';

export interface TestEngine {
  config: Config;
  services: Services;
  runtime: Runtime;
  /** Starts the queue runner (and heartbeats) in this process. */
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
    ...opts.env,
  });
  const services = await makeServices(config, silentLogger, database.db, {
    ...(opts.tokens ? { tokens: opts.tokens } : {}),
    // A connector that ignored its configured base URL fails here instead of leaving the machine.
    fetchImpl: localOnlyFetch,
  });
  for (const id of opts.tenants ?? ['acme']) {
    await database.db('tenants').insert({ id, name: id }).onConflict('id').ignore();
  }
  let runner: Runner | undefined;
  const runtime = services.runtime.runtime;
  return {
    config,
    services,
    runtime,
    async startWorker(concurrency = 4) {
      const events = new EventEmitter() as WorkerEvents;
      await services.runtime.startWorker(events, database.url);
      runner = await startRunner({
        connectionString: database.url,
        concurrency,
        taskList: services.runtime.tasks,
        events,
        log: silentLogger,
      });
    },
    async runToEnd(workflowId, input = {}, tenantId = 'acme', timeoutMs = 20_000) {
      const { run } = await runtime.trigger({ tenantId, workflowId, input });
      const done = await runtime.waitForRun(tenantId, run.id, timeoutMs);
      if (!done) throw new Error(`run ${run.id} vanished`);
      return done;
    },
    async stop() {
      await runner?.stop();
      await services.runtime.stop();
      await fs.rm(home, { recursive: true, force: true });
    },
  };
}
