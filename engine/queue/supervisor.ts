/**
 * Keeps this process's queue runner alive. graphile-worker shuts a worker pool down when it
 * cannot record job outcomes (a database restart: "the database system is shutting down"),
 * and the runner ends with it; the process would live on, beating and renewing its leases,
 * while serving nothing, and the jobs the dead pool had fetched would stay locked by it.
 * Here a pool that shuts down unasked is replaced at once (retried until the database answers
 * again), and its job locks are released (`releaseLocks`) as soon as possible and again once
 * it has drained, so its runs go on in the new pool or in another process.
 */
import { EventEmitter } from 'node:events';
import type { Runner, WorkerEvents } from 'graphile-worker';
import type { Logger } from '../log.ts';
import { type RunnerOptions, startRunner } from './runner.ts';

export interface SupervisorOptions extends RunnerOptions {
  /** Releases the job locks of queue worker ids that are gone (retrying until it succeeds). */
  releaseLocks(ids: string[]): Promise<void>;
  /** How long a stop waits for running jobs. */
  shutdownTimeoutMs: number;
  /** Wait before starting a replacement again after a failed start. */
  retryMs?: number;
}

export async function superviseRunner(opts: SupervisorOptions): Promise<{ stop(): Promise<void> }> {
  const log = opts.log.child({ component: 'queue' });
  const runners = new Set<Runner>();
  let stopping = false;
  let replacing: Promise<void> | undefined;

  const start = async (): Promise<void> => {
    // Each runner gets events of its own (forwarded to the shared ones), so a pool's shutdown
    // is known to be this supervisor's.
    const emitter = new EventEmitter();
    const shared = opts.events as EventEmitter | undefined;
    const emit = emitter.emit.bind(emitter);
    emitter.emit = (name: string | symbol, ...args: unknown[]) => {
      shared?.emit(name, ...args);
      return emit(name, ...args);
    };
    const own = emitter as WorkerEvents;
    // The ids that lock this runner's jobs: its pool's and its workers'.
    const ids: string[] = [];
    own.on('pool:create', ({ workerPool }) => ids.push(workerPool.id));
    own.on('worker:create', ({ worker }) => ids.push(worker.workerId));
    own.on('pool:gracefulShutdown', ({ workerPool, message }) => {
      if (stopping) return;
      log.warn({ pool: workerPool.id, reason: message }, 'queue pool shut down unasked; starting another');
      void opts.releaseLocks([...ids]);
      replace();
    });
    const runner = await startRunner({ ...opts, events: own });
    runners.add(runner);
    runner.promise
      .catch(() => {})
      .finally(() => {
        runners.delete(runner);
        // What the pool failed to hand back while it drained: release it too.
        if (!stopping) void opts.releaseLocks(ids);
      });
  };

  const replace = (): void => {
    replacing ??= (async () => {
      while (!stopping) {
        try {
          await start();
          log.warn('queue runner started again');
          return;
        } catch (err) {
          log.warn({ err }, 'queue runner could not start; trying again');
          await new Promise((r) => setTimeout(r, opts.retryMs ?? 1_000));
        }
      }
    })().finally(() => {
      replacing = undefined;
    });
  };

  await start();
  return {
    async stop() {
      stopping = true;
      await replacing;
      await Promise.all([...runners].map((r) => stopRunner(r, opts.shutdownTimeoutMs, log)));
    },
  };
}

/** Lets running jobs finish within the bound; past it, their locks are released for others. */
export async function stopRunner(runner: Runner, timeoutMs: number, log: Logger): Promise<void> {
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
