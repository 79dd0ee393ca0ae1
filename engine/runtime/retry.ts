/**
 * Retries are decided here and nowhere else, for workflow steps and typed jobs alike.
 * Connectors only classify what went wrong (ConnectorError: retryable, fatal or auth, with
 * an optional Retry-After) and may supply a policy (an action's `jobRetry` schedule); the
 * decision, and every failure record the ledger keeps, come from this file.
 */
import { ConnectorError, type JobRetryPolicy, parseDuration } from '../connector-sdk/index.ts';
import type { RetryPolicy, Step, StepDefaults } from '../manifest/types.gen.ts';

/** Exponential backoff, as a workflow's `retry` declares it. */
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

function retrySettings(
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

/**
 * A typed job's policy: its action's schedule when it supplies one, else the default
 * backoff up to the job's attempt limit.
 */
export function jobRetry(
  supplied: JobRetryPolicy | undefined,
  maxAttempts: number = DEFAULT_RETRY.maxAttempts,
): RetrySettings | JobRetryPolicy {
  if (supplied?.delaysMs) return supplied;
  return { ...DEFAULT_RETRY, maxAttempts: supplied?.maxAttempts ?? maxAttempts };
}

export function stepTimeoutMs(step: Step, defaults: StepDefaults | undefined): number {
  const text = step.timeout ?? defaults?.timeout;
  return text ? parseDuration(text) : DEFAULT_TIMEOUT_MS;
}

/** The serialisable form of a failure, as the ledger keeps it. */
export interface FailureRecord {
  kind: 'retryable' | 'fatal' | 'auth' | 'timeout';
  /** Whether a policy may try again: the kind is `retryable`. */
  retryable: boolean;
  /** The attempt that failed (1-based). */
  attempt: number;
  code: string;
  message: string;
  /** When it failed (ISO 8601). */
  at: string;
  status?: number;
  retryAfterMs?: number;
  cause?: string;
  /** A failed sub-workflow step: the child run whose failure this is. */
  childRunId?: string;
}

export type FailureInit = Omit<FailureRecord, 'retryable' | 'at'> & { at?: string };

/** The one way to make a failure record: every field, `retryable` following the kind. */
export function failure(init: FailureInit): FailureRecord {
  return { ...init, retryable: init.kind === 'retryable', at: init.at ?? new Date().toISOString() };
}

/** An attempt left running by a worker that stopped: retryable by the step's policy. */
export function workerLost(attempt: number): FailureRecord {
  return failure({
    kind: 'retryable',
    attempt,
    code: 'worker_lost',
    message: 'the worker running this attempt stopped',
  });
}

/** A wait for a signal that did not come in time (never retried). */
export function signalTimeout(attempt: number, name: string): FailureRecord {
  return failure({ kind: 'timeout', attempt, code: 'timeout', message: `no signal "${name}" came in time` });
}

/** An attempt stopped because its run was cancelled. */
export function cancelled(attempt: number): FailureRecord {
  return failure({ kind: 'fatal', attempt, code: 'cancelled', message: 'the run was cancelled' });
}

/** Coerces anything thrown by an action into a classified failure. Unknown errors are
 * programming errors or unexpected states: fatal, so they surface instead of looping. */
export function classify(err: unknown, attempt: number): FailureRecord {
  if (err instanceof ConnectorError) {
    return failure({
      code: err.code,
      message: err.message,
      kind: err.kind,
      attempt,
      ...(err.status === undefined ? {} : { status: err.status }),
      ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
      ...(err.cause instanceof Error ? { cause: err.cause.message } : {}),
    });
  }
  const e = err instanceof Error ? err : new Error(String(err));
  if (e.name === 'TimeoutError' || e.name === 'AbortError') {
    return failure({
      code: 'timeout',
      message: e.message || 'the step timed out',
      kind: 'retryable',
      attempt,
    });
  }
  if (databaseUnavailable(e)) {
    return failure({ code: 'database_unavailable', message: e.message, kind: 'retryable', attempt });
  }
  return failure({ code: 'internal_error', message: e.message, kind: 'fatal', attempt });
}

/** PostgreSQL's connection errors (class 08) and shutdowns (class 57), and the network's. */
const UNAVAILABLE_CODES = /^(08|57P)|^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)$/;
const UNAVAILABLE_MESSAGE = /connection error and is not queryable|Connection terminated/;

/** Whether `err` (or what caused it) says the database was away: a restart, a failover. */
function databaseUnavailable(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 5) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.test(code)) return true;
  return UNAVAILABLE_MESSAGE.test(err.message) || databaseUnavailable(err.cause, depth + 1);
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false };

/**
 * Whether and when the next attempt runs: only a retryable failure with attempts left is
 * retried, never sooner than the provider's Retry-After. The delay is the policy's:
 * exponential backoff `initial * factor^(attempt-1)` capped at `max`, with `jitter` of it
 * randomised downwards (full jitter at 1); or a supplied schedule's entry for the attempt,
 * randomised by ± its `jitter`.
 */
export function decideRetry(
  policy: RetrySettings | JobRetryPolicy,
  failure: FailureRecord,
  random: () => number = Math.random,
): RetryDecision {
  if (!failure.retryable || failure.attempt >= policy.maxAttempts) return { retry: false };
  let delay: number;
  if ('initialMs' in policy) {
    const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** (failure.attempt - 1));
    delay = base * (1 - policy.jitter * random());
  } else {
    const base = policy.delaysMs?.[failure.attempt - 1];
    if (base === undefined) return { retry: false };
    delay = Math.round(base * (1 + (policy.jitter ?? 0) * (2 * random() - 1)));
  }
  return { retry: true, delayMs: Math.round(Math.max(delay, failure.retryAfterMs ?? 0)) };
}
