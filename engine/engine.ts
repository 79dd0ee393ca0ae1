/**
 * The one wiring of Atlas: `startEngine` builds the engine from a configuration (database,
 * catalogue, connector registry, secrets, runtime, dispatcher, HTTP app, worker and
 * scheduler) and stops it in order. `atlas serve` runs every role, `atlas worker` the queue,
 * the commands that act as the API would no role; tests and benchmarks choose with options.
 */
import type { Server } from 'node:http';
import type Koa from 'koa';
import { resolveAuth } from './auth/dev-secret.ts';
import { type Config, ConfigError, checkMetricsExposure } from './config.ts';
import { auditWritesSettled } from './db/audit.ts';
import { sweepPendingAudit } from './db/audit-pending.ts';
import { type DatabaseInstance, openDatabase } from './db/instance.ts';
import { type Knex, makeDb, ping } from './db/knex.ts';
import { migrateDirect } from './db/migrate.ts';
import { ensureTenant } from './db/tenants.ts';
import { type ProcessFeed, startProcessFeed } from './feed/process.ts';
import { makeApp } from './http/app.ts';
import { devSignInOption } from './http/routes/console.ts';
import type { Logger } from './log.ts';
import { ALL_ROLES, queueTasks, type WorkerRoles } from './queue/roles.ts';
import { closeServer, formatHost, listen, scheduleRunner, startQueueWorker, workerEvents } from './roles.ts';
import type { Runtime } from './runtime/index.ts';
import { makeServices, type Reload, type ServiceOverrides, type Services } from './services.ts';
import { makeWebhooks } from './webhooks/index.ts';

export interface EngineOptions {
  config: Config;
  log: Logger;
  /** Serve the HTTP API (with the webhook routes). */
  http: boolean;
  /** Run the queue worker and the scheduler from the start; `startWorker()` can start them later. */
  worker: boolean;
  /**
   * An open, migrated database to use as it is (tests, benchmarks, one-off commands): the
   * engine neither migrates nor closes it. Its direct URL (`directUrl`, else `url`) is needed
   * by the worker and the change feed only. Without it, the engine opens `DATABASE_URL` (or
   * the embedded database), migrates it through `DIRECT_URL` and closes it.
   */
  database?: { db: Knex; url?: string; directUrl?: string };
  /** With `http`: listen on HOST:PORT (default), or only build the app (`engine.app`) for a server of the caller's. */
  listen?: boolean;
  /** With the worker: run the schedules too (default). */
  schedules?: boolean;
  /** With the worker: the roles it serves (`atlas worker --only`); default all. */
  roles?: WorkerRoles;
  /** Parts from elsewhere than the configuration: a catalogue, connectors, OAuth tokens, the network. */
  overrides?: ServiceOverrides;
  /** The built web console; `dist/ui` by default. */
  uiDir?: string;
  /**
   * Offer the development sign-in, signed with this secret. Without it the engine decides:
   * only on loopback with its own development secret.
   */
  devSignIn?: { secret: string };
  /**
   * Run the change feed (a logical replication reader). Default: in engines that open their
   * own database with a role (`atlas serve`, `atlas worker`); never in one-off commands.
   */
  feed?: boolean;
}

export interface RunningEngine {
  /** The API's base URL, when the HTTP role listens. */
  url: string | undefined;
  /** The HTTP app, when the HTTP role runs. */
  app: Koa | undefined;
  db: Knex;
  services: Services;
  runtime: Runtime;
  /** Starts the queue worker (and the scheduler, unless `schedules: false`) if not running yet. */
  startWorker(concurrency?: number): Promise<void>;
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
  if (opts.http && opts.listen !== false) checkMetricsExposure(config);
  try {
    // The pool (`db`) may go through a transaction-mode pooler; what needs a session (the
    // queue's LISTEN, cancellations, replication) uses the direct URL.
    const { db, directUrl } = await connect(opts, stack);
    // Last before the pool closes: audit entries written after a response (or a call) was
    // answered are still in their group commit; none may be lost at shutdown.
    stack.push(() => auditWritesSettled(db));
    stack.push(
      sweepPendingAudit(db, (err) =>
        log.warn({ err: err.message }, 'audit: chaining waiting entries failed'),
      ),
    );
    const services = await makeServices(config, log, db, opts.overrides);
    stack.push(() => services.runtime.stop());
    stack.push(() => services.notifier.stop());
    stack.push(async () => services.files.storage.close?.());
    const reloads: Array<() => Promise<void>> = [];
    let worker: Promise<void> | undefined;
    const startWorker = (concurrency = config.workerConcurrency): Promise<void> => {
      worker ??= (async () => {
        if (directUrl === undefined) throw new Error('the worker needs the database URL');
        const events = workerEvents();
        const roles = opts.roles ?? ALL_ROLES;
        const tasks = queueTasks(services.runtime.tasks, roles);
        stack.push(await startQueueWorker(services, directUrl, concurrency, tasks, events, config, log));
        if (opts.schedules === false || !roles.scheduler) return;
        // graphile-worker fixes its cron items when a runner starts, so schedules get a small
        // runner of their own, restarted when a reload changes them.
        const schedules = scheduleRunner(services, directUrl, config, events, log);
        await schedules.sync();
        stack.push(() => schedules.stop());
        reloads.push(() => schedules.sync());
      })();
      return worker;
    };
    if (opts.worker) await startWorker();
    // The change feed reads the database's replication slot: in engine processes (which own
    // their database), or where a caller asks for it; never in one-off commands.
    const feed = await startProcessFeed(
      {
        config,
        db,
        directUrl,
        log,
        wanted: opts.feed ?? (opts.database === undefined && (opts.http || opts.worker)),
        enqueue: (req, trx) => services.runtime.runtime.enqueueJob(req, trx),
      },
      stack,
    );
    let url: string | undefined;
    let app: Koa | undefined;
    if (opts.http) {
      app = await httpApp(opts, db, services, stack, reloads, feed);
      stack.push(startFileSweep(services, log));
      if (opts.listen !== false) {
        const server: Server = await listen(app.callback(), config);
        stack.push(() => closeServer(server, config.shutdownTimeoutMs));
        url = `http://${formatHost(config.host)}:${(server.address() as { port: number }).port}`;
      }
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
    return { url, app, db, services, runtime: services.runtime.runtime, startWorker, reload, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The caller's database, or the configured one: opened, migrated, and closed at the end. */
async function connect(
  opts: EngineOptions,
  stack: Array<() => Promise<void>>,
): Promise<{ db: Knex; directUrl: string | undefined }> {
  if (opts.database) return { db: opts.database.db, directUrl: opts.database.directUrl ?? opts.database.url };
  const instance = await openDatabase(opts.config, opts.log, opts.http);
  stack.push(() => instance.release());
  const db = makeDb(instance.url, { poolSize: opts.config.poolSize });
  stack.push(() => db.destroy());
  await prepareDatabase(db, instance, opts.log);
  return { db, directUrl: instance.directUrl };
}

/** The API with the webhook routes, compiled from the catalogue again on every reload. */
async function httpApp(
  opts: EngineOptions,
  db: Knex,
  services: Services,
  stack: Array<() => Promise<void>>,
  reloads: Array<() => Promise<void>>,
  feed: ProcessFeed,
): Promise<Koa> {
  const { config, log } = opts;
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
  let webhooks = buildWebhooks();
  stack.push(() => webhooks.stop());
  reloads.push(async () => {
    const old = webhooks;
    webhooks = buildWebhooks();
    await old.stop();
  });
  return makeApp({
    config,
    db,
    log,
    runtime: services.runtime.runtime,
    catalogue: services.catalogue,
    auth,
    webhooks: (ctx, next) => webhooks.middleware(ctx, next),
    secrets: services.secrets,
    connectors: services.connectors,
    plugins: services.plugins,
    files: services.files,
    feed: feed.status,
    ...(feed.wake ? { feedWake: feed.wake } : {}),
    ...(opts.devSignIn ? { devSignIn: opts.devSignIn } : devSignInOption(config, auth, devSecretFile)),
    ...(opts.uiDir ? { uiDir: opts.uiDir } : {}),
  });
}

/** Reachability check, migrations and, on the development database, the `demo` tenant. */
export async function prepareDatabase(db: Knex, instance: DatabaseInstance, log: Logger): Promise<void> {
  await checkReachable(db, instance);
  const applied = await migrateDirect(db, instance, (url) => makeDb(url, { poolSize: 1 }));
  if (applied.length > 0) log.info({ migrations: applied }, 'migrations applied');
  // A fresh development database gets a tenant, so the quick start works at once.
  if (instance.owned) {
    await ensureTenant(db, { id: 'demo', name: 'Demo tenant' });
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
    await ping(db);
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    const what = UNREACHABLE[code];
    if (instance.owned || what === undefined) throw err;
    throw new ConfigError('DATABASE_URL', `${what} (${(err as Error).message})`);
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
