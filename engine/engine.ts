/**
 * The engine process: database, migrations, HTTP API, worker and scheduler, and their
 * orderly shutdown. `atlas serve` runs every role; `atlas worker` only the queue.
 */

import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { Runner, WorkerEvents } from 'graphile-worker';
import { resolveAuth } from './auth/dev-secret.ts';
import { type Config, ConfigError, checkMetricsExposure } from './config.ts';
import { type DatabaseInstance, openDatabase } from './db/instance.ts';
import { type Knex, makeDb } from './db/knex.ts';
import { migrateUp } from './db/migrate.ts';
import { makeApp } from './http/app.ts';
import { devSignInOption } from './http/routes/console.ts';
import type { Logger } from './log.ts';
import { startRunner } from './queue/runner.ts';
import { makeServices, type Services } from './services.ts';
import { makeWebhooks } from './webhooks/index.ts';

export interface EngineOptions {
  config: Config;
  log: Logger;
  http: boolean;
  worker: boolean;
  /** The built web console; `dist/ui` by default. */
  uiDir?: string;
}

export interface RunningEngine {
  /** The API's base URL, when the HTTP role runs. */
  url: string | undefined;
  db: Knex;
  services: Services;
  stop(): Promise<void>;
}

export async function startEngine(opts: EngineOptions): Promise<RunningEngine> {
  const { config, log } = opts;
  const stack: Array<() => Promise<void>> = [];
  const stop = async () => {
    while (stack.length > 0) await stack.pop()?.();
  };
  if (opts.http) checkMetricsExposure(config);
  try {
    const instance = await openDatabase(config, log, opts.http);
    stack.push(() => instance.release());
    const db = makeDb(instance.url, { poolSize: config.poolSize });
    stack.push(() => db.destroy());
    await prepareDatabase(db, instance, log);
    const services = await makeServices(config, log, db);
    let runner: Runner | undefined;
    if (opts.worker) {
      const events = new EventEmitter() as WorkerEvents;
      await services.runtime.startWorker(events, instance.url);
      stack.push(() => services.runtime.stop());
      runner = await startRunner({
        connectionString: instance.url,
        concurrency: config.workerConcurrency,
        taskList: services.runtime.tasks,
        cronItems: services.runtime.cronItems,
        events,
        log,
      });
      stack.push(() => stopRunner(runner!, config.shutdownTimeoutMs, log));
    }
    let url: string | undefined;
    if (opts.http) {
      const { auth, devSecretFile } = await resolveAuth(config);
      if (devSecretFile)
        log.info({ file: devSecretFile }, 'API tokens use the development secret (`atlas token` mints them)');
      const webhooks = makeWebhooks({
        config,
        db,
        log,
        catalogue: services.catalogue,
        secrets: services.secrets,
        dispatch: services.runtime.dispatch,
      });
      stack.push(() => webhooks.stop());
      const app = makeApp({
        config,
        db,
        log,
        runtime: services.runtime.runtime,
        catalogue: services.catalogue,
        auth,
        webhooks: webhooks.middleware,
        secrets: services.secrets,
        ...devSignInOption(config, auth, devSecretFile),
        ...(opts.uiDir ? { uiDir: opts.uiDir } : {}),
      });
      const server = await listen(app.callback(), config);
      stack.push(() => closeServer(server, config.shutdownTimeoutMs));
      url = `http://${formatHost(config.host)}:${(server.address() as { port: number }).port}`;
    }
    return { url, db, services, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Reachability check, migrations and, on the development database, the `demo` tenant. */
export async function prepareDatabase(db: Knex, instance: DatabaseInstance, log: Logger): Promise<void> {
  await checkReachable(db, instance);
  const applied = await migrateUp(db, instance.url);
  if (applied.length > 0) log.info({ migrations: applied }, 'migrations applied');
  // A fresh development database gets a tenant, so the quick start works at once.
  if (instance.owned) {
    await db('tenants').insert({ id: 'demo', name: 'Demo tenant' }).onConflict('id').ignore();
  }
}

const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'refused the connection',
  ENOTFOUND: 'names a host that does not resolve',
  ETIMEDOUT: 'did not answer in time',
  EHOSTUNREACH: 'names an unreachable host',
  '28P01': 'was refused: wrong user or password',
  '28000': 'was refused: the server does not accept this user',
  '3D000': 'names a database that does not exist',
};

/** Turns "cannot connect" into one sentence about DATABASE_URL instead of a stack trace. */
async function checkReachable(db: Knex, instance: DatabaseInstance): Promise<void> {
  try {
    await db.raw('select 1');
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    const what = UNREACHABLE[code];
    if (instance.owned || what === undefined) throw err;
    throw new ConfigError('DATABASE_URL', `${what} (${(err as Error).message})`);
  }
}

async function listen(handler: Parameters<typeof import('node:http').createServer>[1], config: Config) {
  const { createServer } = await import('node:http');
  const server = createServer(handler);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE')
        reject(new ConfigError('PORT', `${config.port} is already in use on ${config.host}`));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND')
        reject(new ConfigError('HOST', `"${config.host}" is not an address of this machine`));
      else reject(err);
    });
    server.listen(config.port, config.host, () => resolve());
  });
  return server;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Stops accepting connections, lets in-flight requests finish, then closes the rest. */
async function closeServer(server: Server, timeoutMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
  await closed;
  clearTimeout(timer);
}

/** Lets running jobs finish within the bound; past it, their locks are released for others. */
async function stopRunner(runner: Runner, timeoutMs: number, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([runner.stop().then(() => 'stopped' as const), timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    log.warn({ timeoutMs }, 'jobs still running at the shutdown bound; stopping the worker anyway');
    await runner.kill();
  }
}
