// Step policies resolved for the runtime: the step's own setting, else the workflow's
// `defaults`, else the schema's default; durations in milliseconds.
import { parseDuration } from '../connector-sdk/index.ts';
import type { Step, Workflow } from './types.gen.ts';

export interface ResolvedRetry {
  maxAttempts: number;
  initialMs: number;
  factor: number;
  maxMs: number;
  /** 0..1: the fraction of each delay that is randomised. */
  jitter: number;
}

export interface StepPolicy {
  retry: ResolvedRetry;
  timeoutMs: number;
  onError: 'fail' | 'continue';
}

/** The schema defaults (see schemas/defs.schema.json and workflow.schema.json). */
export const DEFAULT_RETRY: ResolvedRetry = {
  maxAttempts: 3,
  initialMs: 1_000,
  factor: 2,
  maxMs: 300_000,
  jitter: 0.2,
};
export const DEFAULT_TIMEOUT_MS = 30_000;

export function stepPolicy(workflow: Workflow, step: Step): StepPolicy {
  const retry = step.retry ?? workflow.defaults?.retry;
  const backoff = retry?.backoff;
  const timeout = step.timeout ?? workflow.defaults?.timeout;
  return {
    retry: {
      maxAttempts: retry?.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
      initialMs: backoff?.initial ? parseDuration(backoff.initial) : DEFAULT_RETRY.initialMs,
      factor: backoff?.factor ?? DEFAULT_RETRY.factor,
      maxMs: backoff?.max ? parseDuration(backoff.max) : DEFAULT_RETRY.maxMs,
      jitter: backoff?.jitter ?? DEFAULT_RETRY.jitter,
    },
    timeoutMs: timeout ? parseDuration(timeout) : DEFAULT_TIMEOUT_MS,
    onError: step.onError ?? 'fail',
  };
}

/**
 * The delay before attempt `attempt + 1` after attempt `attempt` failed (1-based), without
 * jitter: `initial * factor^(attempt-1)`, capped at `max`. `random` in [0, 1) applies jitter.
 */
export function retryDelayMs(retry: ResolvedRetry, attempt: number, random = 0.5): number {
  const base = Math.min(retry.maxMs, retry.initialMs * retry.factor ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - retry.jitter * random));
}
