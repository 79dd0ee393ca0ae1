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
import type { Logger } from './log.ts';
import { startRunner } from './queue/runner.ts';
import { cronItems, SCHEDULE_TASK } from './runtime/cron.ts';
import { makeServices, type Reload, type Services } from './services.ts';
import { makeWebhooks } from './webhooks/index.ts';

export interface EngineOptions {
  config: Config;
  log: Logger;
  http: boolean;
  worker: boolean;
}

export interface RunningEngine {
  /** The API's base URL, when the HTTP role runs. */
  url: string | undefined;
  db: Knex;
  services: Services;
  /**
   * Reads the manifests again: a valid catalogue replaces the one in use (webhook routes and
   * schedules included); an invalid one is reported and the last valid one keeps serving.
   */
  reload(): Promise<Reload>;
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
    const reloads: Array<() => Promise<void>> = [];
    stack.push(async () => services.files.storage.close?.());
    if (opts.worker) {
      const events = new EventEmitter() as WorkerEvents;
      await services.runtime.startWorker(events, instance.url);
      stack.push(() => services.runtime.stop());
      const runner = await startRunner({
        connectionString: instance.url,
        concurrency: config.workerConcurrency,
        taskList: services.runtime.tasks,
        events,
        log,
      });
      stack.push(() => stopRunner(runner, config.shutdownTimeoutMs, log));
      // graphile-worker fixes its cron items when a runner starts, so schedules get a small
      // runner of their own, restarted when a reload changes them.
      const schedules = scheduleRunner(services, instance.url, config, events, log);
      await schedules.sync();
      stack.push(() => schedules.stop());
      reloads.push(() => schedules.sync());
    }
    let url: string | undefined;
    if (opts.http) {
      const { auth, devSecretFile } = await resolveAuth(config);
      if (devSecretFile)
        log.info({ file: devSecretFile }, 'API tokens use the development secret (`atlas token` mints them)');
      const buildWebhooks = () =>
        makeWebhooks({
          config,
          db,
          log,
          catalogue: services.catalogue,
          secrets: services.secrets,
          dispatch: services.runtime.dispatch,
          gate: services.runtime.gate,
        });
      // Webhook routes are compiled from the catalogue: a reload builds them again.
      let webhooks = buildWebhooks();
      stack.push(() => webhooks.stop());
      reloads.push(async () => {
        const old = webhooks;
        webhooks = buildWebhooks();
        await old.stop();
      });
      const app = makeApp({
        config,
        db,
        log,
        runtime: services.runtime.runtime,
        catalogue: services.catalogue,
        auth,
        webhooks: (ctx, next) => webhooks.middleware(ctx, next),
        secrets: services.secrets,
        files: services.files,
      });
      stack.push(startFileSweep(services, log));
      const server = await listen(app.callback(), config);
      stack.push(() => closeServer(server, config.shutdownTimeoutMs));
      url = `http://${formatHost(config.host)}:${(server.address() as { port: number }).port}`;
    }
    let reloading: Promise<Reload> | undefined;
    const reload = async (): Promise<Reload> => {
      // One reload at a time; a change during one is picked up by the next.
      while (reloading) await reloading.catch(() => {});
      reloading = (async () => {
        const result = await services.reload();
        if (result.ok) for (const step of reloads) await step();
        return result;
      })();
      try {
        return await reloading;
      } finally {
        reloading = undefined;
      }
    };
    return { url, db, services, reload, stop };
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

/** The runner of schedules: started with the catalogue's cron items, restarted when they change. */
function scheduleRunner(
  services: Services,
  connectionString: string,
  config: Config,
  events: WorkerEvents,
  log: Logger,
) {
  let runner: Runner | undefined;
  let current: string | undefined;
  const items = () => cronItems(services.catalogue, config.cronBackfillMs);
  return {
    async sync() {
      const next = items();
      const key = JSON.stringify(
        services.catalogue.workflows().flatMap((e) => {
          const t = e.manifest.trigger;
          return t.type === 'schedule' ? [[e.manifest.id, t.cron]] : [];
        }),
      );
      if (key === current) return;
      await runner?.stop();
      runner = undefined;
      current = key;
      if (next.length === 0) return;
      runner = await startRunner({
        connectionString,
        concurrency: 1,
        taskList: { [SCHEDULE_TASK]: services.runtime.tasks[SCHEDULE_TASK]! },
        cronItems: next,
        events,
        log,
      });
    },
    async stop() {
      await runner?.stop();
    },
  };
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

/**
 * Removes what interrupted uploads and deletions left in file storage: at start, then
 * hourly. A failure is logged and tried again at the next turn.
 */
function startFileSweep(services: Services, log: Logger): () => Promise<void> {
  let running: Promise<void> | undefined;
  const sweep = () => {
    running ??= services.files
      .sweep()
      .then((swept) => {
        if (swept.objects + swept.rows + swept.staged > 0) log.info({ swept }, 'files: swept leftovers');
      })
      .catch((err: unknown) => log.warn({ err }, 'files: the sweep failed; it runs again in an hour'))
      .finally(() => {
        running = undefined;
      });
  };
  sweep();
  const timer = setInterval(sweep, 3_600_000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
