/**
 * Rate limits declared by connectors, enforced per provider, credential and optional key.
 *
 * The limiter works on fixed windows: a counter per `(key, window start)`. That maps onto one
 * PostgreSQL statement for the cross-process limiter (`INSERT ... ON CONFLICT (key,
 * window_start) DO UPDATE SET count = count + 1 RETURNING count`), so the in-memory limiter
 * below and the database one share this interface and the key format.
 */
import { createHash } from 'node:crypto';
import type { RateLimit } from '../connector-sdk/index.ts';

export interface RateLimiter {
  /**
   * Resolves when one call under `key` fits in `limit`; waits (never fails) otherwise.
   * Rejects only when `signal` aborts (the step timed out or was cancelled).
   */
  acquire(key: string, limit: RateLimit, signal: AbortSignal): Promise<void>;
}

/** A limit with its fully-resolved counter key. */
export interface ResolvedRateLimit {
  key: string;
  limit: RateLimit;
}

/** A short, stable, non-reversible id of a credential, for counter keys and audit. */
export function credentialFingerprint(credential: string): string {
  return createHash('sha256').update(credential).digest('base64url').slice(0, 16);
}

/**
 * Picks the connector's limits that apply to an action and renders their keys:
 * `<connector>:<credential fingerprint>:<rendered key or *>`. The key template reads dotted
 * paths of the action input (`chat:{{ chat_id }}`).
 */
export function resolveRateLimits(
  limits: readonly RateLimit[] | undefined,
  scope: { connectorId: string; actionId: string; credentialId?: string; input?: unknown },
): ResolvedRateLimit[] {
  const out: ResolvedRateLimit[] = [];
  for (const limit of limits ?? []) {
    if (limit.actions && !limit.actions.includes(scope.actionId)) continue;
    const rendered = limit.key === undefined ? '*' : renderKey(limit.key, scope.input);
    out.push({ key: `${scope.connectorId}:${scope.credentialId ?? 'platform'}:${rendered}`, limit });
  }
  return out;
}

function renderKey(template: string, input: unknown): string {
  return template.replace(/\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g, (_, path: string) => {
    let value: unknown = input;
    for (const part of path.split('.')) {
      value =
        value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
    }
    return value === undefined || value === null ? '' : String(value);
  });
}

/** Sleeps `ms`, rejecting with the signal's reason when it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * In-process fixed-window limiter. Correct for one process only; the engine swaps in the
 * PostgreSQL limiter when several workers share a credential.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async acquire(key: string, limit: RateLimit, signal: AbortSignal): Promise<void> {
    for (;;) {
      const waitMs = this.tryTake(key, limit);
      if (waitMs === 0) return;
      await sleep(waitMs, signal);
    }
  }

  /** Takes a slot and returns 0, or returns how long until the current window ends. */
  private tryTake(key: string, limit: RateLimit): number {
    const now = this.now();
    const start = now - (now % limit.windowMs);
    const mapKey = `${key}:${limit.limit}/${limit.windowMs}`;
    const window = this.windows.get(mapKey);
    if (!window || window.start !== start) {
      this.windows.set(mapKey, { start, count: 1 });
      this.prune(now);
      return 0;
    }
    if (window.count < limit.limit) {
      window.count += 1;
      return 0;
    }
    return Math.max(1, start + limit.windowMs - now);
  }

  /** Drops stale windows so long-lived workers do not grow the map without bound. */
  private prune(now: number): void {
    if (this.windows.size < 10_000) return;
    for (const [key, window] of this.windows) if (window.start + 3_600_000 < now) this.windows.delete(key);
  }
}
