import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../engine/connector-sdk/index.ts';
import type { Step, Workflow } from '../../engine/manifest/index.ts';
import {
  cancelled,
  classify,
  DEFAULT_RETRY,
  decideRetry,
  failure,
  jobRetry,
  stepRetry,
  stepTimeoutMs,
  workerLost,
} from '../../engine/runtime/retry.ts';

const step = (extra: Partial<Step> = {}): Step => ({ id: 'a', uses: 'core.noop', ...extra });

describe('retry policy', () => {
  it("resolves the step's policy, else the workflow defaults, else the schema's", () => {
    const defaults: Workflow['defaults'] = { timeout: '1m', retry: { maxAttempts: 5 } };
    expect(stepRetry(step(), undefined)).toEqual({
      maxAttempts: 3,
      initialMs: 1000,
      factor: 2,
      maxMs: 300_000,
      jitter: 0.2,
    });
    expect(stepRetry(step(), defaults).maxAttempts).toBe(5);
    expect(
      stepRetry(step({ retry: { maxAttempts: 2, backoff: { initial: '2s', max: '5s' } } }), defaults),
    ).toMatchObject({
      maxAttempts: 2,
      initialMs: 2000,
      maxMs: 5000,
    });
    expect(stepTimeoutMs(step(), undefined)).toBe(30_000);
    expect(stepTimeoutMs(step(), defaults)).toBe(60_000);
    expect(stepTimeoutMs(step({ timeout: '250ms' }), defaults)).toBe(250);
  });

  it('backs off exponentially up to the cap, jitter only shortening the delay', () => {
    const settings = { maxAttempts: 5, initialMs: 2000, factor: 2, maxMs: 5000, jitter: 0 };
    const retryable = (attempt: number) => classify(ConnectorError.retryable('x', 'x'), attempt);
    expect([1, 2, 3].map((n) => decideRetry(settings, retryable(n)))).toEqual([
      { retry: true, delayMs: 2000 },
      { retry: true, delayMs: 4000 },
      { retry: true, delayMs: 5000 },
    ]);
    const full = { ...settings, jitter: 1 };
    expect(decideRetry(full, retryable(1), () => 0.999)).toEqual({ retry: true, delayMs: 2 });
    expect(decideRetry(full, retryable(1), () => 0)).toEqual({ retry: true, delayMs: 2000 });
    expect(decideRetry(settings, retryable(5))).toEqual({ retry: false });
  });

  it("never retries sooner than a provider's Retry-After, and never retries fatal or auth errors", () => {
    const settings = { maxAttempts: 3, initialMs: 10, factor: 2, maxMs: 100, jitter: 0 };
    const limited = classify(
      ConnectorError.retryable('rate_limited', 'slow down', { retryAfterMs: 7000 }),
      1,
    );
    expect(decideRetry(settings, limited)).toEqual({ retry: true, delayMs: 7000 });
    expect(decideRetry(settings, classify(ConnectorError.fatal('bad', 'bad'), 1))).toEqual({ retry: false });
    expect(decideRetry(settings, classify(ConnectorError.auth('revoked', 'revoked'), 1))).toEqual({
      retry: false,
    });
  });

  it('classifies the database being away (a restart, a refused connection) as retryable', () => {
    const shuttingDown = Object.assign(new Error('select 1 - the database system is shutting down'), {
      code: '57P03',
    });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const broken = new Error('COMMIT; - Client has encountered a connection error and is not queryable');
    const wrapped = new Error('item 1 failed', { cause: refused });
    for (const err of [shuttingDown, refused, broken, wrapped])
      expect(classify(err, 1)).toMatchObject({ code: 'database_unavailable', kind: 'retryable' });
    expect(classify(Object.assign(new Error('duplicate key'), { code: '23505' }), 1)).toMatchObject({
      code: 'internal_error',
      kind: 'fatal',
    });
  });

  it('classifies anything thrown: timeouts are retryable, unknown errors fatal', () => {
    expect(classify(new DOMException('timed out', 'TimeoutError'), 2)).toMatchObject({
      code: 'timeout',
      retryable: true,
      attempt: 2,
    });
    expect(classify(new TypeError('x is undefined'), 1)).toMatchObject({
      code: 'internal_error',
      kind: 'fatal',
    });
    expect(classify('a string', 1)).toMatchObject({ code: 'internal_error', message: 'a string' });
  });
});

describe('one retry decision for steps and typed jobs', () => {
  const retryable = (attempt: number, retryAfterMs?: number) =>
    failure({
      kind: 'retryable',
      attempt,
      code: 'http_503',
      message: 'busy',
      ...(retryAfterMs ? { retryAfterMs } : {}),
    });

  it("applies an action's supplied schedule: its delays, its jitter, then no attempt left", () => {
    const schedule = jobRetry({ maxAttempts: 4, delaysMs: [100, 1000, 10_000], jitter: 0.5 });
    expect(decideRetry(schedule, retryable(1), () => 0.5)).toEqual({ retry: true, delayMs: 100 });
    expect(decideRetry(schedule, retryable(2), () => 0)).toEqual({ retry: true, delayMs: 500 });
    expect(decideRetry(schedule, retryable(3), () => 1)).toEqual({ retry: true, delayMs: 15_000 });
    expect(decideRetry(schedule, retryable(4), () => 0.5)).toEqual({ retry: false });
    // The engine, not the schedule, keeps the provider's Retry-After and refuses fatal errors.
    expect(decideRetry(schedule, retryable(1, 60_000), () => 0.5)).toEqual({ retry: true, delayMs: 60_000 });
    expect(decideRetry(schedule, classify(ConnectorError.fatal('bad', 'bad'), 1))).toEqual({ retry: false });
  });

  it('uses the default backoff for a job whose action supplies only an attempt limit, or nothing', () => {
    expect(jobRetry({ maxAttempts: 1 })).toEqual({ ...DEFAULT_RETRY, maxAttempts: 1 });
    expect(decideRetry(jobRetry({ maxAttempts: 1 }), retryable(1))).toEqual({ retry: false });
    expect(decideRetry(jobRetry(undefined, 5), retryable(2), () => 0)).toEqual({
      retry: true,
      delayMs: 2000,
    });
  });

  it('makes every failure record with every field, a lost worker and a cancel included', () => {
    const fields = ['attempt', 'at', 'code', 'kind', 'message', 'retryable'];
    const records = [
      classify(ConnectorError.retryable('rate_limited', 'slow down'), 1),
      classify(new Error('boom'), 2),
      workerLost(3),
      cancelled(4),
    ];
    for (const r of records) expect(Object.keys(r)).toEqual(expect.arrayContaining(fields));
    expect(workerLost(3)).toMatchObject({
      code: 'worker_lost',
      kind: 'retryable',
      retryable: true,
      attempt: 3,
    });
    expect(cancelled(4)).toMatchObject({ code: 'cancelled', kind: 'fatal', retryable: false, attempt: 4 });
    expect(new Date(workerLost(1).at).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });
});
