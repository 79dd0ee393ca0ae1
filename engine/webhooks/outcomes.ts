/**
 * What an accepted delivery did, in words and in the audit log: why it started no run (or
 * delivered no signal), which default-on workflows it skipped, and its audit entry.
 */
import type { Knex } from 'knex';
import type { AuditRecord } from '../db/audit.ts';
import { type DefaultGate, isDefaultOn, loadHoldings, recordSkips, type Skip } from '../runtime/defaults.ts';
import type { Acceptance, Delivery, EventRow, Planned } from './accept.ts';
import type { Subscriber } from './routes.ts';
import type { SignalOutcome } from './signals.ts';

/** Why a new event started nothing: no subscriber, no match, or not enabled for the tenant. */
export function whyNoRun({ delivery, candidates }: Planned): string {
  const { route, tenantId, eventType } = delivery;
  if (route.subscribers.length === 0) return `no workflow has a trigger on route ${route.id}`;
  if (candidates.length === 0) {
    const typed = route.subscribers.filter((s) => s.accepts(eventType));
    const ids = (list: Subscriber[]) => list.map((s) => s.entry.manifest.id).join(', ');
    return typed.length === 0
      ? `no workflow of route ${route.id} (${ids(route.subscribers)}) lists event type ${eventType}`
      : `the trigger \`if\` of ${ids(typed)} is false for this event`;
  }
  const ids = candidates.map((s) => s.entry.manifest.id);
  return `${ids.join(', ')} ${ids.length === 1 ? 'is' : 'are'} not enabled for tenant ${tenantId}`;
}

/** Why no mapping delivered a signal. */
export function whyNoSignal(outcomes: SignalOutcome[]): string {
  return outcomes.map((o) => `${o.workflowId}: ${o.reason ?? 'not delivered'}`).join('; ');
}

export function whySkipped(skips: Skip[]): string {
  return skips.map((s) => `${s.workflowId} is skipped for tenant ${s.tenantId}: ${s.reason}`).join('; ');
}

/**
 * Default-on candidates the tenant has no row for run when it has what they need (added to
 * `enabled`); the others are skipped with their reason, recorded in `workflow_skips`.
 */
export async function admitDefaults(
  trx: Knex.Transaction,
  gate: DefaultGate,
  planned: Planned[],
  events: EventRow[],
): Promise<Map<number, Skip[]>> {
  const implicit = planned.map((p, i) => {
    const event = events[i]!;
    if (event.id === null || event.status !== 'active') return [];
    return p.candidates.filter(
      (c) => isDefaultOn(c.entry.manifest) && !event.chosen.includes(c.entry.manifest.id),
    );
  });
  const skips = new Map<number, Skip[]>();
  const tenants = [
    ...new Set(planned.filter((_, i) => implicit[i]!.length > 0).map((p) => p.delivery.tenantId)),
  ];
  if (tenants.length === 0) return skips;
  const held = await loadHoldings(trx, tenants);
  for (const [i, list] of implicit.entries()) {
    const { tenantId } = planned[i]!.delivery;
    for (const c of list) {
      const reason = gate.missing(c.entry, held.get(tenantId)!);
      if (reason === undefined) events[i]!.enabled.push(c.entry.manifest.id);
      else {
        const skip = { tenantId, workflowId: c.entry.manifest.id, reason, trigger: 'webhook' };
        skips.set(i, [...(skips.get(i) ?? []), skip]);
      }
    }
  }
  await recordSkips(trx, [...skips.values()].flat());
  return skips;
}

export function auditEntry(d: Delivery, outcome: Acceptance): AuditRecord {
  const action = outcome.duplicate ? 'webhook.duplicate' : 'webhook.receive';
  return {
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
    // auditRowsJson redacts the summary (credential shapes, secret-named keys) and bounds it.
    summary: {
      route: d.route.id,
      eventId: d.eventId,
      eventType: d.eventType,
      runIds: outcome.runIds,
      ...(outcome.signals ? { signals: outcome.signals } : {}),
      ...(outcome.duplicate ? {} : { payload: d.body }),
    },
  };
}
