/**
 * Recording one source transaction: its changes become `feed_events` (numbered per entity, a
 * change that leaves an entity's state as it was makes none) and their subscriptions'
 * `WEBHOOK_SEND` jobs, in one transaction; a delivery that failed with `endpoint_gone`
 * disables its subscription. Also the `feed.gap` events and the public shape of an event.
 */
import type { Knex } from 'knex';
import {
  activeSubscriptions,
  activeTenantIds,
  disableSubscription,
  type FeedEventRow,
  insertFeedEvent,
  lockEntity,
  saveEntity,
} from '../db/feed.ts';
import { type Change, eventId, FEED_ACTOR_PREFIX, matchesType, toDraft } from './events.ts';
import { compareLsn } from './slot.ts';

export interface Pending {
  commitLsn: string;
  commitTime: Date;
  changes: Change[];
}

/** Queues a delivery in the caller's transaction (the runtime's `enqueueJob`). */
export type Enqueue = (
  req: { tenantId: string; type: string; payload: unknown; actor: string; idempotencyKey: string },
  trx: Knex.Transaction,
) => Promise<unknown>;

/**
 * Records `tx` unless it was recorded before (its commit LSN at or below `processed`: a
 * replay); returns how many changes made event drafts.
 */
export async function recordTransaction(
  db: Knex,
  tx: Pending,
  processed: string | undefined,
  enqueue: Enqueue,
): Promise<number> {
  if (processed && compareLsn(tx.commitLsn, processed) <= 0) return 0; // a replay: done before
  const drafts = tx.changes.map((c, pos) => ({ draft: toDraft(c), pos, change: c }));
  const gone = tx.changes.filter(isGoneDelivery);
  if (!drafts.some((d) => d.draft) && gone.length === 0) return 0;
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
    await queueDeliveries(trx, inserted, enqueue);
    for (const change of gone) {
      const sub = String(change.row.actor).slice(FEED_ACTOR_PREFIX.length);
      await disableSubscription(trx, sub, 'the receiver answered 410 Gone');
    }
  });
  return drafts.filter((d) => d.draft).length;
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
  enqueue: Enqueue,
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
export async function reportGap(db: Knex, reason: string, lagBytes: number | null): Promise<void> {
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
