/**
 * Retention of the change feed: events older than ATLAS_FEED_RETENTION are deleted, at start
 * and then hourly, in batches so that no statement holds many rows locked. Entities keep their
 * last state and number (`feed_entities`), so numbering goes on; the newest recorded source
 * position is never pruned, since it tells a replayed transaction from a new one.
 */
import type { Knex } from 'knex';
import { pruneFeedEvents } from '../db/feed.ts';
import type { Logger } from '../log.ts';

export const PRUNE_EVERY_MS = 3_600_000;
const BATCH = 5000;

export function startPruning(
  db: Knex,
  retentionMs: number,
  log: Logger,
  everyMs = PRUNE_EVERY_MS,
): { prune(): Promise<number>; stop(): Promise<void> } {
  let running: Promise<number> | undefined;
  const prune = (): Promise<number> => {
    running ??= (async () => {
      const before = new Date(Date.now() - retentionMs);
      let total = 0;
      for (;;) {
        const n = await pruneFeedEvents(db, before, BATCH);
        total += n;
        if (n < BATCH) break;
      }
      if (total > 0) log.info({ pruned: total, before }, 'change feed: pruned old events');
      return total;
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  const turn = () => {
    prune().catch((err: Error) =>
      log.warn({ err: err.message }, 'change feed: pruning old events failed; it runs again in an hour'),
    );
  };
  turn();
  const timer = setInterval(turn, everyMs);
  timer.unref();
  return {
    prune,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => 0);
    },
  };
}
