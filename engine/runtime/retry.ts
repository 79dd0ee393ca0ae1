/**
 * Retries are decided here and nowhere else. Connectors only classify what went wrong
 * (ConnectorError: retryable, fatal or auth, with an optional Retry-After); the step's
 * policy decides whether and when the next attempt runs.
 */
import { ConnectorError, parseDuration } from '../connector-sdk/index.ts';
import type { RetryPolicy, Step, StepDefaults } from '../manifest/types.gen.ts';

export interface RetrySettings {
  maxAttempts: number;
  initialMs: number;
  factor: number;
  maxMs: number;
  /** 0 = exact delays, 1 = full jitter (uniform between 0 and the delay). */
  jitter: number;
}

/** The schema's defaults (schemas/defs.schema.json). */
export const DEFAULT_RETRY: RetrySettings = {
  maxAttempts: 3,
  initialMs: 1000,
  factor: 2,
  maxMs: 300_000,
  jitter: 0.2,
};
export const DEFAULT_TIMEOUT_MS = 30_000;

export function retrySettings(
  policy: RetryPolicy | undefined,
  fallback: RetrySettings = DEFAULT_RETRY,
): RetrySettings {
  const b = policy?.backoff;
  return {
    maxAttempts: policy?.maxAttempts ?? fallback.maxAttempts,
    initialMs: b?.initial ? parseDuration(b.initial) : fallback.initialMs,
    factor: b?.factor ?? fallback.factor,
    maxMs: b?.max ? parseDuration(b.max) : fallback.maxMs,
    jitter: b?.jitter ?? fallback.jitter,
  };
}

/** A step's own policy wins over the workflow's defaults, which win over the schema's. */
export function stepRetry(step: Step, defaults: StepDefaults | undefined): RetrySettings {
  return retrySettings(step.retry ?? defaults?.retry);
}

export function stepTimeoutMs(step: Step, defaults: StepDefaults | undefined): number {
  const text = step.timeout ?? defaults?.timeout;
  return text ? parseDuration(text) : DEFAULT_TIMEOUT_MS;
}

/** The serialisable form of a failure, as the ledger keeps it. */
export interface FailureRecord {
  code: string;
  message: string;
  kind: 'retryable' | 'fatal' | 'auth';
  retryable: boolean;
  status?: number;
  retryAfterMs?: number;
  attempt: number;
  cause?: string;
}

/** Coerces anything thrown by an action into a classified failure. Unknown errors are
 * programming errors or unexpected states: fatal, so they surface instead of looping. */
export function classify(err: unknown, attempt: number): FailureRecord {
  if (err instanceof ConnectorError) {
    return {
      code: err.code,
      message: err.message,
      kind: err.kind,
      retryable: err.kind === 'retryable',
      attempt,
      ...(err.status === undefined ? {} : { status: err.status }),
      ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
      ...(err.cause instanceof Error ? { cause: err.cause.message } : {}),
    };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  if (e.name === 'TimeoutError' || e.name === 'AbortError') {
    return {
      code: 'timeout',
      message: e.message || 'the step timed out',
      kind: 'retryable',
      retryable: true,
      attempt,
    };
  }
  return { code: 'internal_error', message: e.message, kind: 'fatal', retryable: false, attempt };
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false };

/**
 * Exponential backoff `initial * factor^(attempt-1)` capped at `max`, with `jitter` of it
 * randomised downwards (full jitter at 1), and never sooner than the provider's Retry-After.
 */
export function decideRetry(
  settings: RetrySettings,
  failure: FailureRecord,
  random: () => number = Math.random,
): RetryDecision {
  if (!failure.retryable || failure.attempt >= settings.maxAttempts) return { retry: false };
  const base = Math.min(settings.maxMs, settings.initialMs * settings.factor ** (failure.attempt - 1));
  const jittered = base * (1 - settings.jitter * random());
  return { retry: true, delayMs: Math.round(Math.max(jittered, failure.retryAfterMs ?? 0)) };
}
