/**
 * The change feed's slot and publication: names, whether this database can feed it, LSN
 * arithmetic, and the feed's metrics.
 */
import type { Knex } from 'knex';
import client from 'prom-client';
import { feedCapability } from '../db/feed.ts';

export const PUBLICATION = 'atlas_feed';

/** The slot of this database: slots are per cluster, so the name carries the database's. */
export async function slotName(db: Knex): Promise<string> {
  const { rows } = await db.raw<{ rows: Array<{ name: string }> }>('select current_database() as name');
  const base = rows[0]!.name.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return `atlas_feed_${base}`.slice(0, 63);
}

/**
 * Why this database cannot feed the change feed, in one sentence; undefined when it can.
 */
export async function feedUnavailable(db: Knex): Promise<string | undefined> {
  const cap = await feedCapability(db);
  if (cap.walLevel !== 'logical') {
    return `the change feed is off: the database runs with wal_level=${cap.walLevel}; start PostgreSQL with wal_level=logical (on a managed database, turn on logical replication) to get GET /v1/events and subscriptions`;
  }
  if (!cap.canReplicate) {
    return 'the change feed is off: the database user may not use replication; grant it REPLICATION (ALTER ROLE ... REPLICATION, or rds_replication on RDS)';
  }
  if (!cap.publication)
    return `the change feed is off: the publication ${PUBLICATION} is missing; run atlas migrate up`;
  return undefined;
}

export function toDate(v: unknown): Date {
  // pgoutput's commit time: microseconds since 2000-01-01 (a BigInt), or a Date already.
  if (v instanceof Date) return v;
  if (typeof v === 'bigint') return new Date(Number(v / 1000n) + 946_684_800_000);
  return new Date();
}

export function compareLsn(a: string, b: string): number {
  const n = (s: string) => {
    const [hi, lo] = s.split('/');
    return (BigInt(`0x${hi || '0'}`) << 32n) + BigInt(`0x${lo || '0'}`);
  };
  const d = n(a) - n(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

export function feedMetrics() {
  const { register } = client;
  const gauge = (name: string, help: string) =>
    (register.getSingleMetric(name) as client.Gauge | undefined) ?? new client.Gauge({ name, help });
  const counter = (name: string, help: string) =>
    (register.getSingleMetric(name) as client.Counter | undefined) ?? new client.Counter({ name, help });
  return {
    on: gauge('atlas_feed_enabled', '1 while the change feed reads a replication slot, 0 when it is off.'),
    lag: gauge(
      'atlas_feed_slot_lag_bytes',
      'How far the change feed slot is behind the server (bytes of WAL).',
    ),
    retained: gauge('atlas_feed_slot_retained_bytes', 'WAL the change feed slot keeps on disk (bytes).'),
    gaps: counter('atlas_feed_gaps_total', 'Times the slot was dropped and a feed.gap reported.'),
    events: counter('atlas_feed_changes_total', 'Changes of watched tables read from the slot.'),
    pauses: counter(
      'atlas_feed_pauses_total',
      'Times reading the slot paused until the queued changes were recorded.',
    ),
  };
}
