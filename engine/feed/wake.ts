/**
 * One LISTEN connection per process for the feed's open streams (engine/db/feed-channel.ts):
 * a notification wakes the streams of its tenant, which read their new events at once. The
 * connection is proved to deliver (a probe sent through the pool must come back) before the
 * streams rely on it; until then, and whenever it is lost, they poll as before. A lost
 * connection is opened again after a second, then every few seconds, and every stream is
 * woken once it is back (it may have missed notifications meanwhile).
 */
import type { Knex } from 'knex';
import { type FeedListener, listenForFeed } from '../db/feed-channel.ts';
import type { Logger } from '../log.ts';

export interface FeedWake {
  /** Whether notifications arrive: streams then poll only as a slow fallback. */
  readonly live: boolean;
  /** Calls `wake` whenever events of the tenant may have been recorded; returns the unsubscribe. */
  subscribe(tenantId: string, wake: () => void): () => void;
  stop(): Promise<void>;
}

export interface FeedWakeOptions {
  db: Knex;
  /** A direct connection URL (LISTEN needs a session of its own). */
  url: string;
  log: Logger;
  /** How long the probe may take to come back (ms). */
  probeMs?: number;
  /** The longest wait between two attempts to listen again (ms). */
  retryMaxMs?: number;
}

export async function startFeedWake(opts: FeedWakeOptions): Promise<FeedWake> {
  const { db, log } = opts;
  const subscribers = new Map<string, Set<() => void>>();
  let listener: FeedListener | undefined;
  let live = false;
  let stopped = false;
  let retryMs = 1000;
  let timer: NodeJS.Timeout | undefined;

  const wake = (tenantId: string) => {
    for (const fn of subscribers.get(tenantId) ?? []) fn();
  };
  const wakeAll = () => {
    for (const tenantId of subscribers.keys()) wake(tenantId);
  };

  const connect = async (): Promise<void> => {
    if (stopped) return;
    try {
      let opened: FeedListener | undefined;
      opened = await listenForFeed(opts.url, wake, (err) => {
        if (opened === undefined || listener !== opened) return;
        listener = undefined;
        live = false;
        log.warn(
          { err: err.message },
          'change feed: the LISTEN connection was lost; streams poll until it is back',
        );
        schedule();
      });
      listener = opened;
      if (stopped) return void (await opened.close());
      live = await opened.probe(db, opts.probeMs ?? 2000);
      if (listener !== opened) return;
      retryMs = 1000;
      if (!live) {
        log.warn(
          'change feed: notifications do not arrive on DIRECT_URL (a pooler in transaction mode?); open streams poll instead',
        );
      }
      wakeAll();
    } catch (err) {
      live = false;
      log.warn(
        { err: (err as Error).message },
        'change feed: cannot LISTEN for new events; streams poll meanwhile',
      );
      schedule();
    }
  };

  const schedule = () => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void connect(), retryMs);
    retryMs = Math.min(retryMs * 2, opts.retryMaxMs ?? 8000);
  };

  await connect();
  return {
    get live() {
      return live;
    },
    subscribe(tenantId, fn) {
      const set = subscribers.get(tenantId) ?? new Set<() => void>();
      subscribers.set(tenantId, set);
      set.add(fn);
      return () => {
        set.delete(fn);
        if (set.size === 0 && subscribers.get(tenantId) === set) subscribers.delete(tenantId);
      };
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      live = false;
      const l = listener;
      listener = undefined;
      await l?.close();
    },
  };
}
