/**
 * Shared pieces of the in-workflow connector tests: one single-step workflow per connector
 * action (so each run exercises exactly one action through the whole engine), and the
 * checks of a retried 429 and of a 401 failing as an auth error.
 */
import { expect } from 'vitest';
import type { RunDetail, TokenSource } from '../../engine/runtime/index.ts';

export interface ActionCase {
  /** The workflow id that runs it. */
  id: string;
  uses: string;
  input: unknown;
}

/**
 * A manual workflow with one step `call`. Short backoffs and three attempts: a provider's
 * Retry-After, not the backoff, decides how long a rate-limited step waits.
 */
export function workflowYaml(c: ActionCase): string {
  return `apiVersion: atlas/v1
kind: Workflow
id: ${c.id}
trigger: { type: manual }
steps:
  - id: call
    uses: ${c.uses}
    with: ${JSON.stringify(c.input)}
    retry: { maxAttempts: 3, backoff: { initial: 10ms, factor: 1, jitter: 0 } }
`;
}

export function manifestsOf(cases: readonly ActionCase[]): Record<string, string> {
  return Object.fromEntries(cases.map((c) => [`${c.id}.yaml`, workflowYaml(c)]));
}

/** OAuth access tokens per tenant and provider, for the engine under test. */
export function tokenSource(tokens: Record<string, Record<string, string>>): TokenSource {
  return {
    async accessToken(tenantId, provider) {
      const token = tokens[tenantId]?.[provider];
      if (token === undefined) throw new Error(`no ${provider} token for ${tenantId} in this test`);
      return token;
    },
  };
}

function attemptsOf(run: RunDetail) {
  const step = run.steps.find((s) => s.id === 'call');
  if (!step) throw new Error(`run ${run.id} has no step "call"`);
  return step.attempts;
}

/** The run succeeded in one attempt; returns that attempt's output. */
export function outputOf(run: RunDetail): unknown {
  expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
  const attempts = attemptsOf(run);
  expect(attempts.map((a) => a.status)).toEqual(['succeeded']);
  return attempts[0]!.output;
}

/**
 * A rate-limited first attempt, retried no sooner than the provider asked, then a success.
 * The retry time is computed from the failure, and `finished_at` is written a moment later in
 * the same transaction: a few milliseconds of tolerance cover that gap.
 */
export function expectRetriedAfter(run: RunDetail, retryAfterMs: number): void {
  expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
  const [first, second] = attemptsOf(run);
  expect(first).toMatchObject({ status: 'failed', error: { kind: 'retryable' } });
  expect(second).toMatchObject({ status: 'succeeded' });
  const waited = Date.parse(first!.retryAt!) - Date.parse(first!.finishedAt!);
  expect(waited).toBeGreaterThanOrEqual(retryAfterMs - 20);
  expect(Date.parse(second!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(first!.retryAt!) - 20);
}

/** A 401 fails the run at once as an auth error: one attempt of three allowed, no retry time. */
export function expectAuthFailure(run: RunDetail): void {
  expect(run.status).toBe('failed');
  const attempts = attemptsOf(run);
  expect(attempts).toHaveLength(1);
  expect(attempts[0]).toMatchObject({ status: 'failed', retryAt: null, error: { kind: 'auth' } });
  expect(run.error).toMatchObject({ step: 'call', kind: 'auth' });
}
