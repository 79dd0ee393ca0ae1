/**
 * The words of a notification: one message for one event, or a digest for the events about
 * one subject that arrived while its throttle window was open. Plain text everywhere (no
 * Telegram parse mode, no HTML): error messages and names are written by others.
 */
import type { NotificationEventRow } from '../db/notifications.ts';

export interface Message {
  /** The email subject. */
  title: string;
  /** The Telegram text and the email body. */
  text: string;
  /** The webhook's `data`. */
  data: Record<string, unknown>;
}

/** Telegram's limit; email and webhooks take the same text. */
const MAX_TEXT = 4096;

function one(tenantId: string, ev: NotificationEventRow, link?: { url: string; expiresAt: Date }): string {
  const d = ev.detail;
  const reason = [d['code'], d['message']].filter((x) => typeof x === 'string' && x !== '').join(': ');
  switch (ev.kind) {
    case 'run.failed':
      return `Run ${d['runId']} of workflow ${d['workflowId']} failed${d['step'] ? ` at step ${d['step']}` : ''}${reason ? `: ${reason}` : '.'}`;
    case 'job.failed':
      return `A ${d['type']} job (${d['jobId']}) failed after ${d['attempts']} attempt(s)${reason ? `: ${reason}` : '.'}`;
    case 'integration.disconnected': {
      const head = `The ${d['provider']} integration of ${tenantId} is disconnected (${d['reason'] ?? 'revoked'}): workflows that use it fail until it is connected again.`;
      return link
        ? `${head}\nReconnect it here (single use, valid until ${link.expiresAt.toISOString()}): ${link.url}`
        : `${head}\nReconnect it from the console's Integrations page.`;
    }
    case 'quota.warning': {
      const used = Number(d['used']);
      const limit = Number(d['limit']);
      return `${quotaName(String(d['quota']))} is at ${Math.floor((used / limit) * 100)}% of its limit (${used} of ${limit}).`;
    }
    default:
      return `${ev.kind} about ${ev.subject}.`;
  }
}

function quotaName(quota: string): string {
  if (quota === 'files.bytes') return 'File storage (bytes)';
  if (quota === 'files.count') return 'File storage (number of files)';
  if (quota === 'llm.tokensPerDay') return "Today's LLM tokens on the platform's key";
  return `The ${quota} quota`;
}

const TITLES: Record<string, (subject: string) => string> = {
  'run.failed': (s) => `workflow ${s} failed`,
  'job.failed': (s) => `a ${s} job failed`,
  'integration.disconnected': (s) => `reconnect ${s}`,
  'quota.warning': (s) => `${s} above 90%`,
};

/**
 * The message for `events` (oldest first, all of one kind and subject). More than one makes a
 * digest: how many, since when, and the latest in full.
 */
export function compose(
  tenantId: string,
  events: readonly NotificationEventRow[],
  link?: { url: string; expiresAt: Date },
): Message {
  const first = events[0]!;
  const latest = events[events.length - 1]!;
  const title = `Atlas (${tenantId}): ${(TITLES[first.kind] ?? ((s: string) => `${first.kind} ${s}`))(first.subject)}`;
  const body =
    events.length === 1
      ? one(tenantId, latest, link)
      : `${events.length} ${first.kind} events about ${first.subject} since ${first.created_at.toISOString()}. The latest:\n${one(tenantId, latest, link)}`;
  const text = `${title}\n${body}`.slice(0, MAX_TEXT);
  return {
    title: title.slice(0, 200),
    text,
    data: {
      tenantId,
      kind: first.kind,
      subject: first.subject,
      count: events.length,
      since: first.created_at.toISOString(),
      latest: latest.detail,
      ...(link ? { reconnectUrl: link.url, reconnectExpiresAt: link.expiresAt.toISOString() } : {}),
    },
  };
}
