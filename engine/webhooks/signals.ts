/**
 * Signals through a webhook route: a workflow's `trigger.signal` mapping turns a verified
 * delivery into a signal to one of its waiting runs (an approval button pressed in Telegram)
 * instead of a new run. Only a run of that workflow, for the route's tenant, is signalled;
 * with `approvers`, only a sender the workflow's config lists. It happens in the delivery's
 * transaction, so the event, its signal and its audit entry commit together.
 */
import type { Knex } from 'knex';
import { tenantScope } from '../db/tenant-workflows.ts';
import { evaluate, isTruthy, renderSync } from '../expr/index.ts';
import type { Logger } from '../log.ts';
import type { CatalogueEntry } from '../manifest/catalogue.ts';
import type { JsonLogicRule, SignalMapping, Workflow } from '../manifest/types.gen.ts';
import { RuntimeError } from '../runtime/errors.ts';
import { signalInTransaction } from '../runtime/signals.ts';

export interface Signaler {
  entry: CatalogueEntry<Workflow>;
  accepts(eventType: string): boolean;
  rule: JsonLogicRule | undefined;
  mapping: SignalMapping;
}

/** What one mapping did with a delivery: the signal it delivered, or why it delivered none. */
export interface SignalOutcome {
  workflowId: string;
  runId?: string;
  name?: string;
  sender?: string;
  delivered: boolean;
  reason?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SIGNAL_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** The mappings whose events and `if` admit the delivery (a rule that throws admits nothing). */
export function matchingSignalers(
  signalers: readonly Signaler[],
  eventType: string,
  trigger: Record<string, unknown>,
  tenantId: string,
  log: Logger,
): Signaler[] {
  return signalers.filter((s) => {
    if (!s.accepts(eventType)) return false;
    if (s.rule === undefined) return true;
    try {
      return isTruthy(evaluate(s.rule, { trigger, tenant: { id: tenantId } }, trigger.at as string));
    } catch (err) {
      log.warn({ err, workflow: s.entry.manifest.id }, 'webhook:signal-filter-failed');
      return false;
    }
  });
}

/** Delivers each matching mapping's signal in the delivery's transaction. */
export async function deliverSignals(
  trx: Knex.Transaction,
  delivery: { tenantId: string; routeId: string; eventId: string },
  trigger: Record<string, unknown>,
  signalers: readonly Signaler[],
): Promise<SignalOutcome[]> {
  const outcomes: SignalOutcome[] = [];
  for (const s of signalers) outcomes.push(await deliverOne(trx, delivery, trigger, s));
  return outcomes;
}

async function deliverOne(
  trx: Knex.Transaction,
  delivery: { tenantId: string; routeId: string; eventId: string },
  trigger: Record<string, unknown>,
  { entry, mapping }: Signaler,
): Promise<SignalOutcome> {
  const workflowId = entry.manifest.id;
  const scope = { trigger, tenant: { id: delivery.tenantId }, now: String(trigger.at) };
  let runId: unknown;
  let name: unknown;
  let sender: unknown;
  let payload: unknown;
  try {
    runId = renderSync(mapping.run, scope);
    name = renderSync(mapping.name, scope);
    sender = renderSync(mapping.sender, scope);
    payload = mapping.payload === undefined ? trigger.body : renderSync(mapping.payload, scope);
  } catch (err) {
    return {
      workflowId,
      delivered: false,
      reason: `the event does not fit the mapping: ${(err as Error).message}`,
    };
  }
  if (typeof runId !== 'string' || !UUID.test(runId))
    return { workflowId, delivered: false, reason: 'the event names no run' };
  if (typeof name !== 'string' || !SIGNAL_NAME.test(name))
    return { workflowId, runId, delivered: false, reason: 'the event names no signal' };
  if (sender === undefined || sender === null || typeof sender === 'object' || String(sender) === '')
    return { workflowId, runId, name, delivered: false, reason: 'the event names no sender' };
  const who = String(sender);
  const base = { workflowId, runId, name, sender: who };
  if (mapping.approvers !== undefined) {
    const tenant = await tenantScope(trx, delivery.tenantId, workflowId);
    let approvers: unknown;
    try {
      approvers = renderSync(mapping.approvers, { tenant: tenant ?? { id: delivery.tenantId, config: {} } });
    } catch {
      approvers = [];
    }
    if (!Array.isArray(approvers) || !approvers.some((a) => String(a) === who))
      return { ...base, delivered: false, reason: `${who} is not an approver of ${workflowId}` };
  }
  try {
    await signalInTransaction(trx, {
      tenantId: delivery.tenantId,
      runId,
      name,
      payload,
      sender: `${delivery.routeId}:${who}`,
      idempotencyKey: `webhook:${delivery.routeId}:${delivery.eventId}`,
      workflowId,
    });
    return { ...base, delivered: true };
  } catch (err) {
    if (err instanceof RuntimeError) return { ...base, delivered: false, reason: err.message };
    throw err;
  }
}
