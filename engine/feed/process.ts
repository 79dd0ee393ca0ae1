/**
 * The change feed of one engine process: the slot reader (engine/feed/index.ts) and the one
 * LISTEN connection that wakes the process's open streams (engine/feed/wake.ts), or the
 * reason it is off.
 */
import type { Knex } from 'knex';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { type FeedStatus, startFeed } from './index.ts';
import type { Enqueue } from './record.ts';
import { type FeedWake, startFeedWake } from './wake.ts';

export interface ProcessFeed {
  status: FeedStatus;
  wake?: FeedWake;
}

/** Starts what `wanted` asks for; pushes each stop onto `stack`. */
export async function startProcessFeed(
  opts: {
    config: Config;
    db: Knex;
    directUrl: string | undefined;
    log: Logger;
    wanted: boolean;
    enqueue: Enqueue;
  },
  stack: Array<() => Promise<void>>,
): Promise<ProcessFeed> {
  const { config, db, directUrl, log } = opts;
  if (!opts.wanted || config.feed.mode === 'off' || directUrl === undefined) {
    return {
      status: {
        on: false,
        reason:
          config.feed.mode === 'off'
            ? 'the change feed is off: ATLAS_FEED=off'
            : 'the change feed is off in this process: it runs in the engine processes (atlas serve, atlas worker)',
      },
    };
  }
  const feed = await startFeed({
    db,
    url: directUrl,
    log,
    maxLagBytes: config.feed.maxLagBytes,
    retentionMs: config.feed.retentionMs,
    enqueue: opts.enqueue,
  });
  stack.push(() => feed.stop());
  if (!feed.status.on) return { status: feed.status };
  const wake = await startFeedWake({ db, url: directUrl, log });
  stack.push(() => wake.stop());
  return { status: feed.status, wake };
}
