/** Longest provider-requested delay we honour; longer asks are clamped (a daily quota
 * reset would otherwise park a step for a day; the step's policy can still give up). */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/**
 * Parses `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Returns
 * milliseconds from `now`, clamped to [0, max], or undefined when absent or unparseable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
  max: number = MAX_RETRY_AFTER_MS,
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return clampDelay(Number(trimmed) * 1000, max);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return clampDelay(date - now, max);
}

function clampDelay(ms: number, max: number = MAX_RETRY_AFTER_MS): number {
  if (!Number.isFinite(ms) || ms < 0) return 0;
  return Math.min(Math.round(ms), max);
}
