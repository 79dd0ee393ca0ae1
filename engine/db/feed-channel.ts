/**
 * The change feed's wake-ups: every insert into `feed_events` sends its tenant's id with
 * NOTIFY on `atlas_feed` (a trigger, migration 311), delivered when the recording transaction
 * commits. A process listens on one connection of its own, and proves that notifications
 * reach it (a pooler in transaction mode accepts LISTEN and never delivers) by sending a
 * probe through the pool and waiting for it.
 */
import type { Knex } from 'knex';
import pg from 'pg';

export const FEED_CHANNEL = 'atlas_feed';
const PROBE = 'probe:';

export interface FeedListener {
  /** Sends a probe through `db` and resolves whether it came back within `ms`. */
  probe(db: Knex, ms: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Listens on its own connection (`application_name` atlas-feed-wake); `onLost` is called
 * once if the connection fails, after it is closed.
 */
export async function listenForFeed(
  connectionString: string,
  onTenant: (tenantId: string) => void,
  onLost: (err: Error) => void,
): Promise<FeedListener> {
  const client = new pg.Client({ connectionString, application_name: 'atlas-feed-wake' });
  const probes = new Map<string, () => void>();
  let lost = false;
  const fail = (err: Error) => {
    if (lost) return;
    lost = true;
    client.end().catch(() => {});
    onLost(err);
  };
  client.on('notification', (msg) => {
    if (msg.channel !== FEED_CHANNEL || !msg.payload) return;
    if (msg.payload.startsWith(PROBE)) probes.get(msg.payload)?.();
    else onTenant(msg.payload);
  });
  client.on('error', fail);
  client.on('end', () => fail(new Error('the connection ended')));
  await client.connect();
  await client.query(`listen ${FEED_CHANNEL}`);
  return {
    async probe(db, ms) {
      const token = `${PROBE}${process.pid}:${Math.random().toString(36).slice(2)}`;
      const arrived = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        probes.set(token, () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      try {
        await db.raw('select pg_notify(?, ?)', [FEED_CHANNEL, token]);
        return await arrived;
      } finally {
        probes.delete(token);
      }
    },
    async close() {
      lost = true;
      await client.end().catch(() => {});
    },
  };
}
