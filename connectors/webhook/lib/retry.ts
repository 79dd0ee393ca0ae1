/**
 * The outbound webhook delivery schedule (Standard Webhooks' recommendation, as Svix runs
 * it): immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — eight attempts over
 * about 27 hours. Jitter spreads retries so one receiver's outage does not come back as a
 * thundering herd when it recovers.
 */
import type { JobRetryPolicy } from 'atlas-engine/sdk';

/** Delay before attempt n+1 after attempt n failed (index 0 = after the first attempt). */
export const WEBHOOK_RETRY_SCHEDULE_MS: readonly number[] = Object.freeze([
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
]);

/** ± this fraction of each delay is random. */
export const WEBHOOK_RETRY_JITTER = 0.2;

/**
 * The SDK's job retry policy: `delayMs` gives the delay after `attempt` (1-based) failed, or
 * `undefined` when the schedule is exhausted; a receiver's longer `retryAfterMs` wins.
 */
export type DeliveryRetryPolicy = JobRetryPolicy;

export const webhookRetryPolicy: DeliveryRetryPolicy = {
  maxAttempts: WEBHOOK_RETRY_SCHEDULE_MS.length + 1,
  delayMs(attempt, retryAfterMs, random = Math.random) {
    const base = WEBHOOK_RETRY_SCHEDULE_MS[attempt - 1];
    if (base === undefined) return undefined;
    const jittered = Math.round(base * (1 + WEBHOOK_RETRY_JITTER * (2 * random() - 1)));
    return Math.max(jittered, retryAfterMs ?? 0);
  },
};
