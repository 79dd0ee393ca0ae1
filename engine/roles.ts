/**
 * The roles of an engine process: the HTTP server, the queue runner and the schedule runner,
 * each with its orderly stop.
 */
import { EventEmitter } from 'node:events';
import { createServer, type RequestListener, type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Runner, TaskList, WorkerEvents } from 'graphile-worker';
import { type Config, ConfigError } from './config.ts';
import type { Logger } from './log.ts';
import { statusTitle } from './problem.ts';
import { startRunner } from './queue/runner.ts';
import { superviseRunner } from './queue/supervisor.ts';
import { cronItems, SCHEDULE_TASK } from './runtime/cron.ts';
import type { Services } from './services.ts';

/** What Node's HTTP parser rejects before Koa sees it, answered in the API's problem+json. */
const PARSE_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'The request headers are larger than 16 KB.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'The request did not arrive in time.'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'The chunk extensions are too large.'],
};

function answerParseError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [status, detail] = PARSE_ERRORS[err.code ?? ''] ?? [400, 'The request is not valid HTTP/1.1.'];
  const body = JSON.stringify({ type: 'about:blank', title: statusTitle(status), status, detail });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export async function listen(handler: RequestListener, config: Config): Promise<Server> {
  const server = createServer(handler);
  server.keepAliveTimeout = 65_000;
  server.on('clientError', answerParseError);
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

export function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Stops accepting connections, lets in-flight requests finish, then closes the rest. */
export async function closeServer(server: Server, timeoutMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
  await closed;
  clearTimeout(timer);
}

/** The runner of schedules: started with the catalogue's cron items, restarted when they change. */
export function scheduleRunner(
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

/**
 * The queue worker: the runtime's heartbeats, and a graphile-worker runner over the tasks of
 * this process's roles (none for a scheduler-only worker). Returns the runner's stop, bounded
 * by the shutdown timeout.
 */
export async function startQueueWorker(
  services: Services,
  connectionString: string,
  concurrency: number,
  taskList: TaskList,
  events: WorkerEvents,
  config: Config,
  log: Logger,
): Promise<() => Promise<void>> {
  // The heartbeats stop with the runtime (`services.runtime.stop()`), after the runner.
  await services.runtime.startWorker(events, connectionString);
  if (Object.keys(taskList).length === 0) return async () => {};
  const runner = await superviseRunner({
    connectionString,
    concurrency,
    taskList,
    events,
    log,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    releaseLocks: (ids) => services.runtime.releaseQueueWorkers(ids),
  });
  return () => runner.stop();
}

export function workerEvents(): WorkerEvents {
  return new EventEmitter() as WorkerEvents;
}
