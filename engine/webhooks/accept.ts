/**
 * Accepting verified events: the dedup row, the audit entry and one run per matching workflow
 * commit together or not at all, and the answer is sent after the commit; the work runs later
 * on the queue (the runs' jobs follow through the run outbox).
 *
 * Deliveries that arrive together are group-committed: begin, dedup inserts + tenant status +
 * enablement (one statement), runs (one), audit entries with the events' run ids (one),
 * commit, for the whole batch.
 */
import type { Knex } from 'knex';
import { auditRowsJson } from '../db/audit.ts';
import { GroupCommit } from '../db/group-commit.ts';
import { eventKey, insertWebhookEvents, settleEvents, storedRunIds } from '../db/webhook-events.ts';
import { evaluate, isTruthy } from '../expr/index.ts';
import type { Logger } from '../log.ts';
import type { DefaultGate, Skip } from '../runtime/defaults.ts';
import { RuntimeError } from '../runtime/errors.ts';
import { createRunsBatch, type NewRun } from '../runtime/trigger.ts';
import { admitDefaults, auditEntry, whyNoRun, whyNoSignal, whySkipped } from './outcomes.ts';
import type { CompiledWebhookRoute, Subscriber } from './routes.ts';
import { deliverSignals, matchingSignalers, type Signaler, type SignalOutcome } from './signals.ts';

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
  /** What the route's signal mappings did with it. */
  signals?: SignalOutcome[];
  /** Why a new event started no run ("accepted, no run: WF-051 is not enabled for tenant demo"). */
  note?: string;
}

/**
 * The subscribers whose events and JSON Logic `if` admit the delivery. Pure CPU, done before
 * the transaction. A rule that throws on this payload admits nothing (and is logged): a
 * provider must never see a 5xx because of one workflow's filter.
 */
function matchingSubscribers(delivery: Delivery, trigger: object, log: Logger): Subscriber[] {
  return delivery.route.subscribers.filter((s) => {
    if (!s.accepts(delivery.eventType)) return false;
    if (s.rule === undefined) return true;
    try {
      // `now` is the trigger's `at`, the time of receipt.
      const at = delivery.receivedAt;
      return isTruthy(evaluate(s.rule, { trigger, tenant: { id: delivery.tenantId } }, at));
    } catch (err) {
      log.warn(
        { err, workflow: s.entry.manifest.id, route: delivery.route.id, eventId: delivery.eventId },
        'webhook:filter-failed',
      );
      return false;
    }
  });
}

function triggerOf(delivery: Delivery): Record<string, unknown> {
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

export type Accepted = Acceptance | { error: unknown };

/**
 * Deliveries that arrive together share one transaction (group commit): three statements and
 * one durable commit for the whole batch, each delivery still all-or-nothing with its batch.
 * A batch that fails is retried delivery by delivery (GroupCommit), so one bad delivery
 * cannot fail the others.
 */
export function makeAcceptor(
  db: Knex,
  log: Logger,
  gate?: DefaultGate,
): (delivery: Delivery) => Promise<Acceptance> {
  // One batch at a time: several at once measured slower (docs/ARCHITECTURE.md).
  const group = new GroupCommit<Delivery, Accepted>((batch) => acceptDeliveries(db, batch, log, gate));
  return async (delivery) => {
    const outcome = await group.submit(delivery);
    if ('error' in outcome) throw outcome.error;
    return outcome;
  };
}

export interface Planned {
  delivery: Delivery;
  trigger: Record<string, unknown>;
  candidates: Subscriber[];
  /** The workflows whose `trigger.signal` mapping admits the delivery. */
  signalers: Signaler[];
  /** Index of an earlier delivery of the same event in this batch: this one is a duplicate. */
  repeats?: number;
}

async function acceptDeliveries(
  db: Knex,
  deliveries: Delivery[],
  log: Logger,
  gate?: DefaultGate,
): Promise<Accepted[]> {
  const seen = new Map<string, number>();
  const planned: Planned[] = deliveries.map((delivery, i) => {
    const key = eventKey({
      tenant_id: delivery.tenantId,
      route_id: delivery.route.id,
      event_id: delivery.eventId,
    });
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    const trigger = triggerOf(delivery);
    const { route, eventType, tenantId } = delivery;
    return {
      delivery,
      trigger,
      candidates: matchingSubscribers(delivery, trigger, log),
      signalers: matchingSignalers(route.signalers, eventType, trigger, tenantId, log),
      ...(first === undefined ? {} : { repeats: first }),
    };
  });
  return db.transaction(async (trx) => {
    const events = await insertEvents(trx, planned);
    const skips = gate ? await admitDefaults(trx, gate, planned, events) : new Map<number, Skip[]>();
    const runs = await startRuns(trx, planned, events);
    if (runs.failure) return planned.map(() => ({ error: runs.failure }));
    const signals = await signalRuns(trx, planned, events);
    const firsts = await firstRuns(trx, planned, events, runs.ids);
    const outcomes: Accepted[] = planned.map((p, i) => {
      const event = events[i]!;
      if (event.status !== 'active') return { error: inactive(p.delivery.tenantId) };
      const runIds = firsts[i] ?? runs.ids[i] ?? [];
      const signalled = signals[i] ?? [];
      const extra = signalled.length > 0 ? { signals: signalled } : {};
      if (event.id === null || runIds.length > 0 || signalled.some((o) => o.delivered))
        return { duplicate: event.id === null, runIds, ...extra };
      const skipped = skips.get(i);
      const why = signalled.length > 0 ? whyNoSignal(signalled) : skipped ? whySkipped(skipped) : whyNoRun(p);
      const note = `accepted, no ${signalled.length > 0 ? 'signal' : 'run'}: ${why}`;
      const { route, tenantId, eventId, eventType } = p.delivery;
      log.info({ route: route.id, tenant: tenantId, eventId, eventType }, `webhook:${note}`);
      return { duplicate: false, runIds, note, ...extra };
    });
    const entries = outcomes.flatMap((o, i) => ('error' in o ? [] : [auditEntry(planned[i]!.delivery, o)]));
    // An event with runs is always an accepted one, so links come only with entries.
    if (entries.length > 0) await settleEvents(trx, linksOf(events, runs.ids), auditRowsJson(entries));
    return outcomes;
  });
}

const inactive = (tenantId: string) =>
  new RuntimeError('tenant_disabled', `Tenant ${tenantId} is not active.`);

export interface EventRow {
  id: number | null;
  status: string | null;
  enabled: string[];
  /** Candidates the tenant has a row for (enabled or not): a default-on one without is implicit. */
  chosen: string[];
}

/** The dedup rows of the batch's new events, and the tenants' enabled subscribers. */
async function insertEvents(trx: Knex.Transaction, planned: Planned[]): Promise<EventRow[]> {
  const requests = planned.map((p, ord) => ({
    ord,
    fresh: p.repeats === undefined,
    tenant_id: p.delivery.tenantId,
    route_id: p.delivery.route.id,
    event_id: p.delivery.eventId,
    event_type: p.delivery.eventType,
    payload: p.delivery.body,
    received_at: p.delivery.receivedAt.toISOString(),
    candidates: p.candidates.map((s) => s.entry.manifest.id),
  }));
  const rows = await insertWebhookEvents(trx, requests);
  const byOrd = new Map(rows.map((r) => [r.ord, r]));
  return planned.map((_, i) => {
    const row = byOrd.get(i);
    return {
      id: row?.id ?? null,
      status: row?.status ?? null,
      enabled: row?.enabled ?? [],
      chosen: row?.chosen ?? [],
    };
  });
}

/** One run per new event and enabled matching workflow, all in one statement. */
async function startRuns(
  trx: Knex.Transaction,
  planned: Planned[],
  events: EventRow[],
): Promise<{ ids: string[][]; failure?: unknown }> {
  const requests: NewRun[] = [];
  const owners: number[] = [];
  for (const [i, p] of planned.entries()) {
    const event = events[i]!;
    if (event.id === null || event.status !== 'active') continue;
    for (const subscriber of p.candidates) {
      if (!event.enabled.includes(subscriber.entry.manifest.id)) continue;
      requests.push({
        tenantId: p.delivery.tenantId,
        entry: subscriber.entry,
        input: {},
        trigger: p.trigger,
      });
      owners.push(i);
    }
  }
  const ids: string[][] = planned.map(() => []);
  if (requests.length === 0) return { ids };
  const outcomes = await createRunsBatch(trx, requests);
  for (const [n, outcome] of outcomes.entries()) {
    // The tenant was disabled between the event insert and the run: refuse the batch.
    if ('error' in outcome) return { ids, failure: outcome.error };
    ids[owners[n]!]!.push(outcome.run.id);
  }
  return { ids };
}

/** The signals of the batch's new events, each in the batch's transaction. */
async function signalRuns(
  trx: Knex.Transaction,
  planned: Planned[],
  events: EventRow[],
): Promise<SignalOutcome[][]> {
  const out: SignalOutcome[][] = planned.map(() => []);
  for (const [i, p] of planned.entries()) {
    const event = events[i]!;
    if (event.id === null || event.status !== 'active' || p.signalers.length === 0) continue;
    const { tenantId, route, eventId } = p.delivery;
    out[i] = await deliverSignals(trx, { tenantId, routeId: route.id, eventId }, p.trigger, p.signalers);
  }
  return out;
}

/**
 * A duplicate's answer names the runs its event's first delivery started: an earlier one of
 * this batch, or a stored event (its insert found the row, waiting for the commit of a batch
 * in flight if need be, and this later statement sees that commit). Null for a new event.
 */
async function firstRuns(
  trx: Knex.Transaction,
  planned: Planned[],
  events: EventRow[],
  started: string[][],
): Promise<Array<string[] | null>> {
  const stored = planned.flatMap((p, i) =>
    p.repeats === undefined && events[i]!.id === null && events[i]!.status === 'active'
      ? [{ tenant_id: p.delivery.tenantId, route_id: p.delivery.route.id, event_id: p.delivery.eventId }]
      : [],
  );
  const found = stored.length > 0 ? await storedRunIds(trx, stored) : new Map<string, string[]>();
  const firsts = planned.map((p, i): string[] | null => {
    if (events[i]!.id !== null || p.repeats !== undefined) return null;
    const { tenantId, route, eventId } = p.delivery;
    return found.get(eventKey({ tenant_id: tenantId, route_id: route.id, event_id: eventId })) ?? [];
  });
  return planned.map((p, i) =>
    p.repeats === undefined ? (firsts[i] ?? null) : (firsts[p.repeats] ?? started[p.repeats] ?? []),
  );
}

/** The runs each new event started, for its row. */
function linksOf(events: EventRow[], ids: string[][]): Array<{ id: number; run_ids: string[] }> {
  return events.flatMap((e, i) =>
    e.id !== null && ids[i]!.length > 0 ? [{ id: e.id, run_ids: ids[i]! }] : [],
  );
}
