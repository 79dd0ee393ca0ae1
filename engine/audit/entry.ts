/**
 * Audit entries of outbound calls, below both the hub that makes them and the `audit_log`
 * sink in db/ that stores them: one entry per outbound HTTP call, whatever made it
 * (a connector's `ctx.http.request` or an SDK through `ctx.http.fetch`). Entries carry no
 * secret: headers, query values and paths are redacted before they reach a sink, and bodies
 * are recorded only when the call opts in (`auditBodies`), redacted too.
 */

export interface AuditEntry {
  at: string;
  tenantId: string;
  runId?: string;
  stepId?: string;
  jobId?: string;
  connectorId: string;
  actionId: string;
  attempt?: number;
  method: string;
  host: string;
  /** Redacted path (Telegram puts the bot token in it). */
  path: string;
  /** Redacted query parameters. */
  query?: Record<string, string>;
  /** Redacted request headers. */
  requestHeaders?: Record<string, string>;
  /** HTTP status; absent when no response arrived. */
  status?: number;
  durationMs: number;
  /** ConnectorError code when the call failed (`rate_limited`, `timeout`, ...). */
  errorCode?: string;
  /** Time spent waiting for the rate limiter before the call, if any. */
  rateLimitWaitMs?: number;
  /** Redacted bodies, only with `auditBodies`; truncated. */
  requestBody?: unknown;
  responseBody?: unknown;
}

/**
 * Where audit entries go. The engine's sink appends to the `audit_log` table; a sink that
 * throws never fails the call (auditing is best effort per call, logged on failure).
 */
export interface AuditSink {
  record(entry: AuditEntry): void | Promise<void>;
}

/** Keeps entries in memory: tests, dry runs, and the CLI. */
export class MemoryAuditSink implements AuditSink {
  readonly entries: AuditEntry[] = [];

  record(entry: AuditEntry): void {
    this.entries.push(entry);
  }
}

/** Maximum characters of a body kept in an audit entry. */
const AUDIT_BODY_LIMIT = 4096;

export function truncateForAudit(text: string): string {
  return text.length <= AUDIT_BODY_LIMIT
    ? text
    : `${text.slice(0, AUDIT_BODY_LIMIT)}…[${text.length - AUDIT_BODY_LIMIT} more]`;
}
