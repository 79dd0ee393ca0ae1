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
import { createSlot, dropSlot, lastSourceLsn, slotInfo, slotRecorded } from '../db/feed.ts';
import type { Logger } from '../log.ts';
import type { Op } from './events.ts';
import { type Enqueue, type Pending, recordTransaction, reportGap } from './record.ts';
import { startPruning } from './retention.ts';
import { compareLsn, feedMetrics, feedUnavailable, PUBLICATION, slotName, toDate } from './slot.ts';

export { publicEvent } from './record.ts';
export { feedUnavailable, slotName } from './slot.ts';

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
  enqueue: Enqueue;
  /** How long events are kept (ATLAS_FEED_RETENTION); older ones are pruned hourly. */
  retentionMs?: number;
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
    const changes = await recordTransaction(db, tx, processed, opts.enqueue);
    if (compareLsn(tx.commitLsn, processed ?? '0/0') > 0) processed = tx.commitLsn;
    metrics.events.inc(changes);
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
  const pruning = opts.retentionMs === undefined ? undefined : startPruning(db, opts.retentionMs, log);

  await checkLag();
  await connect();

  return {
    status,
    slot,
    checkLag,
    async stop() {
      stopped = true;
      clearInterval(lagTimer);
      await pruning?.stop();
      clearTimeout(retryTimer);
      const s = service;
      service = undefined;
      await draining?.catch(() => {});
      await s?.destroy().catch(() => {});
    },
  };
}
