/**
 * Accepting a verified event, in ONE transaction: the dedup row, the audit entry and one run
 * (with its first queue job) per matching workflow commit together or not at all. The answer
 * is sent after the commit; the work runs later on the queue.
 *
 * Round trips for an event that starts one run: begin, dedup insert + enablement lookup (one
 * statement), run with its queue job (one statement, createRun), audit insert, run ids update,
 * commit.
 */
import type { Knex } from 'knex';
import { recordAudit } from '../db/audit.ts';
import { evaluate, isTruthy } from '../expr/index.ts';
import type { Logger } from '../log.ts';
import { createRun } from '../runtime/trigger.ts';
import type { CompiledWebhookRoute, Subscriber } from './routes.ts';

/** A verified, parsed delivery. */
export interface Delivery {
  route: CompiledWebhookRoute;
  tenantId: string;
  eventId: string;
  eventType: string;
  body: Record<string, unknown>;
  /** Request headers worth keeping (never the signature). */
  headers: Record<string, string>;
  query: Record<string, string>;
  requestId: string | undefined;
  receivedAt: Date;
}

export interface Acceptance {
  duplicate: boolean;
  runIds: string[];
}

/**
 * The subscribers whose events and JSON Logic `if` admit the delivery. Pure CPU, done before
 * the transaction. A rule that throws on this payload admits nothing (and is logged): a
 * provider must never see a 5xx because of one workflow's filter.
 */
export function matchingSubscribers(delivery: Delivery, trigger: object, log: Logger): Subscriber[] {
  return delivery.route.subscribers.filter((s) => {
    if (!s.accepts(delivery.eventType)) return false;
    if (s.rule === undefined) return true;
    try {
      return isTruthy(evaluate(s.rule, { trigger, tenant: { id: delivery.tenantId } }));
    } catch (err) {
      log.warn(
        { err, workflow: s.entry.manifest.id, route: delivery.route.id, eventId: delivery.eventId },
        'webhook:filter-failed',
      );
      return false;
    }
  });
}

export function triggerOf(delivery: Delivery): Record<string, unknown> {
  return {
    type: 'webhook',
    at: delivery.receivedAt.toISOString(),
    route: delivery.route.id,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    body: delivery.body,
    headers: delivery.headers,
    query: delivery.query,
  };
}

const INSERT_EVENT = `
  with inserted as (
    insert into webhook_events (tenant_id, route_id, event_id, event_type, payload, received_at)
    values (?, ?, ?, ?, ?::jsonb, ?)
    on conflict (tenant_id, route_id, event_id) do nothing
    returning id
  )
  select (select id from inserted) as id,
         array(select workflow_id from tenant_workflows
                where tenant_id = ? and enabled and workflow_id = any(?::text[])) as enabled`;

export async function acceptDelivery(db: Knex, delivery: Delivery, log: Logger): Promise<Acceptance> {
  const trigger = triggerOf(delivery);
  const candidates = matchingSubscribers(delivery, trigger, log);
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw<{ rows: Array<{ id: number | null; enabled: string[] }> }>(INSERT_EVENT, [
      delivery.tenantId,
      delivery.route.id,
      delivery.eventId,
      delivery.eventType,
      JSON.stringify(delivery.body),
      delivery.receivedAt,
      delivery.tenantId,
      candidates.map((s) => s.entry.manifest.id),
    ]);
    const { id, enabled } = rows[0]!;
    if (id === null) {
      await audit(trx, delivery, 'webhook.duplicate', []);
      return { duplicate: true, runIds: [] };
    }
    const runIds: string[] = [];
    for (const subscriber of candidates) {
      if (!enabled.includes(subscriber.entry.manifest.id)) continue;
      const { run } = await createRun(trx, {
        tenantId: delivery.tenantId,
        entry: subscriber.entry,
        input: {},
        trigger,
      });
      runIds.push(run.id);
    }
    await audit(trx, delivery, 'webhook.receive', runIds);
    if (runIds.length > 0) {
      await trx('webhook_events')
        .where({ id })
        .update({ run_ids: trx.raw('?::uuid[]', [runIds]) });
    }
    return { duplicate: false, runIds };
  });
}

async function audit(trx: Knex.Transaction, d: Delivery, action: string, runIds: string[]): Promise<void> {
  await recordAudit(trx, {
    tenantId: d.tenantId,
    actor: `webhook:${d.route.id}`,
    action,
    entityType: 'webhook',
    entityId: `${d.route.id}:${d.eventId}`,
    requestId: d.requestId ?? null,
    status: d.route.response.status,
    result: 'ok',
    method: d.route.method,
    path: d.route.path,
    // recordAudit redacts the summary (credential shapes, secret-named keys) and bounds it.
    summary: {
      route: d.route.id,
      eventId: d.eventId,
      eventType: d.eventType,
      runIds,
      ...(action === 'webhook.receive' ? { payload: d.body } : {}),
    },
  });
}
