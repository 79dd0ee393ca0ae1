/**
 * The change feed: PostgreSQL logical replication (pgoutput, the `atlas_feed` publication)
 * read through a slot this engine owns. Each committed transaction's changes become events
 * (engine/feed/events.ts), written with their subscriptions' `WEBHOOK_SEND` jobs in one
 * transaction; only after it commits is the slot told it may advance. A crash in between
 * replays the transaction, which the recorded source LSN turns into a no-op: at least once,
 * never twice under a second id.
 *
 * One process reads the slot at a time (PostgreSQL allows one reader); the others retry
 * every few seconds and take over when it stops. Every process watches the slot's lag: past
 * ATLAS_FEED_MAX_LAG it is dropped (it would otherwise keep WAL until the disk fills), a
 * `feed.gap` event tells every tenant, and a new slot starts from now.
 */

import type { Knex } from 'knex';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';
import client from 'prom-client';
import {
  activeSubscriptions,
  activeTenantIds,
  createSlot,
  disableSubscription,
  dropSlot,
  type FeedEventRow,
  feedCapability,
  insertFeedEvent,
  lastSourceLsn,
  lockEntity,
  saveEntity,
  slotInfo,
  slotRecorded,
} from '../db/feed.ts';
import type { Logger } from '../log.ts';
import { type Change, eventId, FEED_ACTOR_PREFIX, matchesType, type Op, toDraft } from './events.ts';

export const PUBLICATION = 'atlas_feed';

export interface FeedStatus {
  on: boolean;
  /** Why the feed is off. */
  reason?: string;
  /** The slot's lag and retained WAL at the last check, and the limit (bytes). */
  lagBytes?: number;
  retainedBytes?: number;
  maxLagBytes?: number;
  checkedAt?: string;
}

export interface FeedOptions {
  db: Knex;
  /** The connection URL (the replication connection is opened with it). */
  url: string;
  log: Logger;
  /** Queues a delivery in the caller's transaction (the runtime's `enqueueJob`). */
  enqueue(
    req: { tenantId: string; type: string; payload: unknown; actor: string; idempotencyKey: string },
    trx: Knex.Transaction,
  ): Promise<unknown>;
  /** Retained WAL past which the slot is dropped and a gap reported. */
  maxLagBytes: number;
  /** How often the lag is checked (ms). */
  checkEveryMs?: number;
  /** How long a standby waits before trying to take the slot again (ms). */
  retryEveryMs?: number;
  /** Messages waiting past which reading pauses (5000); it resumes below a tenth of it. */
  queueHigh?: number;
}

export interface Feed {
  status: FeedStatus;
  slot: string;
  /** Checks the lag now (and drops the slot past the limit); the timer does it too. */
  checkLag(): Promise<void>;
  stop(): Promise<void>;
}

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

interface Pending {
  commitLsn: string;
  commitTime: Date;
  changes: Change[];
}

type Item =
  | { kind: 'data'; log: { tag: string } & Record<string, unknown> }
  | { kind: 'keepalive'; lsn: string };

export async function startFeed(opts: FeedOptions): Promise<Feed> {
  const { db, log } = opts;
  const slot = await slotName(db);
  const metrics = feedMetrics();
  const unavailable = await feedUnavailable(db);
  if (unavailable) {
    log.warn(unavailable);
    metrics.on.set(0);
    return {
      status: { on: false, reason: unavailable },
      slot,
      checkLag: async () => {},
      stop: async () => {},
    };
  }
  metrics.on.set(1);
  let stopped = false;
  let service: LogicalReplicationService | undefined;
  let processed = await lastSourceLsn(db);
  let lastAcked = '0/0';
  const queue: Item[] = [];
  let draining: Promise<void> | undefined;
  let pending: Pending | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  const status: FeedStatus = { on: true, lagBytes: 0, retainedBytes: 0, maxLagBytes: opts.maxLagBytes };

  const ensureSlot = async () => {
    if (await slotInfo(db, slot)) return;
    // A slot recorded before but missing now was dropped (here, by an operator, or by
    // max_slot_wal_keep_size): the changes in between are lost, and tenants are told.
    const lost = await slotRecorded(db, slot);
    await createSlot(db, slot).catch((err: { code?: string }) => {
      if (err.code !== '42710') throw err; // created by another process meanwhile
    });
    if (lost) await reportGap(db, 'the replication slot was missing', null);
  };

  const ack = async (lsn: string) => {
    if (compareLsn(lsn, lastAcked) <= 0) return;
    lastAcked = lsn;
    await service?.acknowledge(lsn);
  };

  const handleTransaction = async (tx: Pending) => {
    if (processed && compareLsn(tx.commitLsn, processed) <= 0) return; // a replay: done before
    const drafts = tx.changes.map((c, pos) => ({ draft: toDraft(c), pos, change: c }));
    const gone = tx.changes.filter(isGoneDelivery);
    if (!drafts.some((d) => d.draft) && gone.length === 0) return;
    await db.transaction(async (trx) => {
      const inserted: FeedEventRow[] = [];
      for (const { draft, pos } of drafts) {
        if (!draft) continue;
        const last = await lockEntity(trx, draft.entityType, draft.entityId);
        if (last && last.state === draft.state) continue;
        const tenantId = draft.tenantId ?? last?.tenant_id;
        if (!tenantId) continue;
        const seq = (last?.seq ?? 0) + 1;
        const row = await insertFeedEvent(trx, {
          tenantId,
          type: draft.type,
          entityType: draft.entityType,
          entityId: draft.entityId,
          entitySeq: seq,
          data: draft.data,
          sourceLsn: tx.commitLsn,
          sourcePos: pos,
          occurredAt: tx.commitTime,
        });
        if (!row) continue;
        await saveEntity(trx, {
          tenantId,
          entityType: draft.entityType,
          entityId: draft.entityId,
          seq,
          state: draft.state,
        });
        inserted.push(row);
      }
      await queueDeliveries(trx, inserted, opts.enqueue);
      for (const change of gone) {
        const sub = String(change.row.actor).slice(FEED_ACTOR_PREFIX.length);
        await disableSubscription(trx, sub, 'the receiver answered 410 Gone');
      }
    });
    processed = tx.commitLsn;
    metrics.events.inc(drafts.filter((d) => d.draft).length);
  };

  const handle = async (item: Item) => {
    if (item.kind === 'keepalive') {
      // Everything sent before the keepalive is handled: the slot may move up to it.
      if (!pending) await ack(item.lsn);
      return;
    }
    const msg = item.log;
    switch (msg.tag) {
      case 'begin':
        pending = {
          commitLsn: String(msg.commitLsn),
          commitTime: toDate(msg.commitTime),
          changes: [],
        };
        break;
      case 'insert':
      case 'update':
      case 'delete': {
        const relation = msg.relation as { name: string };
        const row = (msg.new ?? msg.key ?? msg.old ?? {}) as Record<string, unknown>;
        pending?.changes.push({ table: relation.name, op: msg.tag as Op, row });
        break;
      }
      case 'commit': {
        const tx = pending;
        pending = undefined;
        if (tx) await handleTransaction(tx);
        await ack(String(msg.commitEndLsn ?? tx?.commitLsn));
        break;
      }
      default:
        break;
    }
  };

  // Backpressure: past HIGH messages waiting, stop reading the socket (the server waits, the
  // WAL stays on its disk, where the lag limit watches it) until the queue is down to LOW.
  const socket = () =>
    (service as unknown as { _connection?: { stream?: { pause?(): void; resume?(): void } } } | undefined)
      ?._connection?.stream;
  let paused = false;
  const QUEUE_HIGH = opts.queueHigh ?? 5000;
  const QUEUE_LOW = Math.ceil(QUEUE_HIGH / 10);
  const push = (item: Item) => {
    queue.push(item);
    if (!paused && queue.length > QUEUE_HIGH) {
      paused = true;
      metrics.pauses.inc();
      socket()?.pause?.();
    }
    draining ??= drain().finally(() => (draining = undefined));
  };

  const drain = async () => {
    while (queue.length > 0 && !stopped) {
      if (paused && queue.length < QUEUE_LOW) {
        paused = false;
        socket()?.resume?.();
      }
      const item = queue.shift()!;
      try {
        await handle(item);
      } catch (err) {
        // Not acknowledged: reconnecting replays the transaction from the slot.
        log.error({ err }, 'change feed: a transaction could not be recorded; reading again from the slot');
        queue.length = 0;
        pending = undefined;
        await restart();
        return;
      }
    }
  };

  const restart = async () => {
    const old = service;
    service = undefined;
    await old?.destroy().catch(() => {});
    scheduleConnect(opts.retryEveryMs ?? 5000);
  };

  const scheduleConnect = (delay: number) => {
    if (stopped) return;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => void connect(), delay);
  };

  const connect = async () => {
    if (stopped || service) return;
    try {
      await ensureSlot();
      processed = await lastSourceLsn(db);
      queue.length = 0;
      pending = undefined;
      paused = false;
      const s = new LogicalReplicationService(
        { connectionString: opts.url },
        { acknowledge: { auto: false, timeoutSeconds: 0 } },
      );
      service = s;
      lastAcked = '0/0';
      s.on('data', (_lsn: string, msg: { tag: string } & Record<string, unknown>) => {
        push({ kind: 'data', log: msg });
      });
      s.on('heartbeat', (lsn: string, _ts: number, shouldRespond: boolean) => {
        push({ kind: 'keepalive', lsn });
        // The server wants an answer (or it ends the connection): the last position handled.
        if (shouldRespond) void s.acknowledge(lastAcked);
      });
      s.on('error', () => {});
      const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [PUBLICATION] });
      s.on('start', () => log.info({ slot }, 'change feed: reading the replication slot'));
      s.subscribe(plugin, slot).then(
        () => {
          if (service === s && !stopped) void restart();
        },
        (err: { code?: string; message?: string }) => {
          if (service !== s || stopped) return;
          if (err.code === '55006') log.debug({ slot }, 'change feed: another process reads the slot');
          else log.warn({ err: err.message }, 'change feed: replication connection lost; retrying');
          void restart();
        },
      );
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'change feed: cannot open the replication slot; retrying');
      service = undefined;
      scheduleConnect(opts.retryEveryMs ?? 5000);
    }
  };

  const checkLag = async () => {
    const info = await slotInfo(db, slot);
    if (!info) {
      metrics.lag.set(0);
      metrics.retained.set(0);
      return;
    }
    const retained = Number(info.retained_bytes ?? 0);
    metrics.lag.set(Number(info.lag_bytes ?? 0));
    metrics.retained.set(retained);
    Object.assign(status, {
      lagBytes: Number(info.lag_bytes ?? 0),
      retainedBytes: retained,
      checkedAt: new Date().toISOString(),
    });
    const lost = info.wal_status === 'lost';
    if (!lost && retained <= opts.maxLagBytes) return;
    const reason = lost
      ? 'PostgreSQL invalidated the replication slot (max_slot_wal_keep_size)'
      : `the replication slot kept ${retained} bytes of WAL, over ATLAS_FEED_MAX_LAG (${opts.maxLagBytes})`;
    log.error({ slot, retained }, `change feed: ${reason}; dropping the slot and reporting a gap`);
    const mine = service;
    service = undefined;
    await mine?.destroy().catch(() => {});
    if (await dropSlot(db, slot, reason, retained)) {
      metrics.gaps.inc();
      await reportGap(db, reason, retained);
    }
    await ensureSlot();
    scheduleConnect(0);
  };

  const lagTimer = setInterval(() => {
    checkLag().catch((err: Error) => log.warn({ err: err.message }, 'change feed: lag check failed'));
  }, opts.checkEveryMs ?? 10_000);
  lagTimer.unref();

  await checkLag();
  await connect();

  return {
    status,
    slot,
    checkLag,
    async stop() {
      stopped = true;
      clearInterval(lagTimer);
      clearTimeout(retryTimer);
      const s = service;
      service = undefined;
      await draining?.catch(() => {});
      await s?.destroy().catch(() => {});
    },
  };
}

/** A failed feed delivery with `endpoint_gone`: the receiver asked to be removed. */
function isGoneDelivery(change: Change): boolean {
  const { row } = change;
  if (change.table !== 'jobs' || !String(row.actor ?? '').startsWith(FEED_ACTOR_PREFIX)) return false;
  if (row.status !== 'failed') return false;
  const error = typeof row.last_error === 'string' ? safeParse(row.last_error) : row.last_error;
  return (error as { code?: string } | null)?.code === 'endpoint_gone';
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

async function queueDeliveries(
  trx: Knex.Transaction,
  events: FeedEventRow[],
  enqueue: FeedOptions['enqueue'],
): Promise<void> {
  if (events.length === 0) return;
  const subs = await activeSubscriptions(trx, [...new Set(events.map((e) => e.tenant_id))]);
  for (const event of events) {
    for (const sub of subs) {
      if (sub.tenant_id !== event.tenant_id || !matchesType(sub.types, event.type)) continue;
      const id = eventId(event.id);
      await enqueue(
        {
          tenantId: event.tenant_id,
          type: 'WEBHOOK_SEND',
          payload: {
            url: sub.url,
            type: event.type,
            data: publicEvent(event),
            secret: sub.secret_name,
            messageId: id,
          },
          actor: `${FEED_ACTOR_PREFIX}${sub.id}`,
          idempotencyKey: `feed:${sub.id}:${id}`,
        },
        trx,
      );
    }
  }
}

/** An event as clients see it (GET /v1/events, SSE, webhook `data`). */
export function publicEvent(row: FeedEventRow) {
  return {
    id: eventId(row.id),
    type: row.type,
    tenantId: row.tenant_id,
    entity: { type: row.entity_type, id: row.entity_id, seq: row.entity_seq },
    occurredAt: new Date(row.occurred_at).toISOString(),
    data: row.data,
  };
}

/** Tells every active tenant that changes were lost: a `feed.gap` event of its own. */
async function reportGap(db: Knex, reason: string, lagBytes: number | null): Promise<void> {
  const at = new Date();
  await db.transaction(async (trx) => {
    for (const tenantId of await activeTenantIds(trx)) {
      await insertFeedEvent(trx, {
        tenantId,
        type: 'feed.gap',
        entityType: 'feed',
        entityId: 'feed',
        entitySeq: 0,
        data: {
          reason,
          lagBytes,
          at: at.toISOString(),
          hint: 'changes before this event may be missing: read the current state again',
        },
        sourceLsn: null,
        sourcePos: null,
        occurredAt: at,
      });
    }
  });
}

function toDate(v: unknown): Date {
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

function feedMetrics() {
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
