/**
 * What the rest of the engine calls when something a tenant may want to hear about happens:
 * one call each from the end of a failed run, a typed job that failed for good, an
 * integration that was disconnected, and a quota that crossed 90%. Each records an event in
 * the notification outbox (only for tenants that asked for it); the notifier sends it.
 */
import type { Knex } from 'knex';
import { recordNotificationEvent } from '../db/notifications.ts';

type Db = Knex | Knex.Transaction;

/** The actor of notification jobs: their own failures are never notified (no loops). */
export const NOTIFY_ACTOR = 'atlas:notify';

/** Share of a quota above which the tenant is warned. */
export const QUOTA_WARNING_SHARE = 0.9;

const text = (value: unknown, max = 500): string | undefined =>
  typeof value === 'string' ? value.slice(0, max) : undefined;

/** A run ended `failed`: its steps used up their attempts, or its output could not be built. */
export function notifyRunFailed(
  db: Db,
  run: { id: string; tenant_id: string; workflow_id: string },
  error: { step?: string; message?: string; code?: string } | null | undefined,
): Promise<void> {
  return recordNotificationEvent(db, {
    tenantId: run.tenant_id,
    kind: 'run.failed',
    subject: run.workflow_id,
    detail: {
      runId: run.id,
      workflowId: run.workflow_id,
      step: text(error?.step, 200),
      code: text(error?.code, 100),
      message: text(error?.message),
    },
  });
}

/** A typed job failed after its last attempt (not a notification job: no loops). */
export async function notifyJobFailed(
  trx: Knex.Transaction,
  job: { id: string; tenant_id: string; type: string; attempts: number; actor: string | null },
  failure: { code?: string; message?: string },
): Promise<void> {
  if (job.actor === NOTIFY_ACTOR) return;
  await recordNotificationEvent(trx, {
    tenantId: job.tenant_id,
    kind: 'job.failed',
    subject: job.type,
    detail: {
      jobId: job.id,
      type: job.type,
      attempts: job.attempts,
      code: text(failure.code, 100),
      message: text(failure.message),
    },
  });
}

/** An integration lost its grant (revoked, expired): the tenant must connect it again. */
export function notifyDisconnected(
  trx: Knex.Transaction,
  integration: { id: string; tenant_id: string; provider: string },
  reason: string,
): Promise<void> {
  return recordNotificationEvent(trx, {
    tenantId: integration.tenant_id,
    kind: 'integration.disconnected',
    subject: integration.provider,
    detail: { integrationId: integration.id, provider: integration.provider, reason: text(reason, 100) },
  });
}

export interface QuotaUse {
  /** `files.bytes`, `files.count`, `llm.tokensPerDay`. */
  quota: string;
  before: number;
  after: number;
  limit: number;
}

/** Records each quota whose use just went from under 90% of its limit to 90% or more. */
export async function notifyQuota(db: Db, tenantId: string, uses: readonly QuotaUse[]): Promise<void> {
  for (const u of uses) {
    const threshold = u.limit * QUOTA_WARNING_SHARE;
    if (!(u.limit > 0) || u.before >= threshold || u.after < threshold) continue;
    await recordNotificationEvent(db, {
      tenantId,
      kind: 'quota.warning',
      subject: u.quota,
      detail: { quota: u.quota, used: u.after, limit: u.limit },
    });
  }
}
