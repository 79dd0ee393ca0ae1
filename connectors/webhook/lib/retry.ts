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

/** The schedule as the SDK's job retry policy; the engine applies it and a receiver's longer `Retry-After`. */
export type DeliveryRetryPolicy = JobRetryPolicy;

export const webhookRetryPolicy: DeliveryRetryPolicy = {
  maxAttempts: WEBHOOK_RETRY_SCHEDULE_MS.length + 1,
  delaysMs: WEBHOOK_RETRY_SCHEDULE_MS,
  jitter: WEBHOOK_RETRY_JITTER,
};
