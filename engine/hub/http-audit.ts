// One redacted audit entry per HTTP hop of a connector call; a failing audit sink never fails the call.
import type { AuditEntry } from '../audit/entry.ts';
import type { Redactor } from '../audit/redact.ts';
import type { CallMeta, HttpClientOptions } from './http.ts';
import { auditTarget } from './request.ts';

export function recordAudit(
  opts: HttpClientOptions,
  redactor: Redactor,
  meta: CallMeta,
  out: { status?: number; errorCode?: string; responseBody?: unknown; started: number; waited: number },
): void {
  const entry: AuditEntry = {
    at: new Date().toISOString(),
    tenantId: opts.tenantId,
    connectorId: opts.connectorId,
    actionId: opts.actionId,
    ...(opts.runId === undefined ? {} : { runId: opts.runId }),
    ...(opts.stepId === undefined ? {} : { stepId: opts.stepId }),
    ...(opts.jobId === undefined ? {} : { jobId: opts.jobId }),
    ...(opts.attempt === undefined ? {} : { attempt: opts.attempt }),
    method: meta.method,
    ...auditTarget(meta.url, meta.headers, redactor),
    ...(out.status === undefined ? {} : { status: out.status }),
    durationMs: Math.round(performance.now() - out.started),
    ...(out.errorCode === undefined ? {} : { errorCode: out.errorCode }),
    ...(out.waited >= 1 ? { rateLimitWaitMs: Math.round(out.waited) } : {}),
  };
  if (meta.auditBodies) {
    entry.requestBody = redactor.redact(meta.requestBody);
    entry.responseBody = redactor.redact(out.responseBody);
  }
  try {
    const pending = opts.audit.record(entry);
    if (pending) pending.catch((err: unknown) => opts.log?.warn({ err: String(err) }, 'audit:sink-failed'));
  } catch (err) {
    // Auditing must never fail the call it describes.
    opts.log?.warn({ err: String(err) }, 'audit:sink-failed');
  }
}
