/**
 * Runs one action the way a workflow step does, for connector tests: the input checked
 * against the action's schema, each attempt in a real ActionContext (the hub's client, audit,
 * rate limits) against a fake provider, failures classified and retried by the engine's own
 * decision (never sooner than the provider's Retry-After), the output checked.
 */
import { MemoryAuditSink } from '../audit/entry.ts';
import { makeRedactor } from '../audit/redact.ts';
import {
  type ConnectorDefinition,
  ConnectorError,
  makeConnectorRegistry,
  raceSignal,
} from '../connector-sdk/index.ts';
import { MemoryRateLimiter } from '../hub/rate-limit.ts';
import { classify, decideRetry, type FailureRecord } from '../runtime/retry.ts';
import { type LogLine, makeTestContext, type TestContextOptions } from './context.ts';

export interface RunActionOptions extends Omit<TestContextOptions, 'attempt' | 'input'> {
  /** Attempts allowed, the first included (3). */
  maxAttempts?: number;
  /** The first retry's delay; it doubles after each attempt (10 ms). */
  backoffMs?: number;
  /** A longer wait (a provider's Retry-After) ends the run with that failure instead (10 s). */
  maxWaitMs?: number;
}

export interface AttemptRecord {
  attempt: number;
  ok: boolean;
  error?: FailureRecord;
  /** How long the harness waited before the next attempt. */
  retryInMs?: number;
}

export interface ActionRun<O> {
  ok: boolean;
  output?: O;
  /** The last attempt's classified failure: `kind`, `code`, `message`, `status`, `retryAfterMs`. */
  error?: FailureRecord;
  attempts: AttemptRecord[];
  /** One entry per HTTP call, redacted, as the audit log would hold it. */
  audit: MemoryAuditSink['entries'];
  logs: LogLine[];
}

export async function runAction<O = unknown>(
  connector: ConnectorDefinition,
  actionId: string,
  input: unknown,
  opts: RunActionOptions = {},
): Promise<ActionRun<O>> {
  const registry = makeConnectorRegistry([connector, ...(opts.connectors ?? [])]);
  const uses = `${connector.id}.${actionId}`;
  const entry = registry.action(uses);
  if (!entry) throw new Error(`${connector.id} has no action ${actionId}`);
  const maxAttempts = opts.maxAttempts ?? 3;
  const policy = { maxAttempts, initialMs: opts.backoffMs ?? 10, factor: 2, maxMs: 60_000, jitter: 0 };
  const audit = opts.audit ?? new MemoryAuditSink();
  const logs = opts.logs ?? [];
  const shared = {
    ...opts,
    audit,
    logs,
    rateLimiter: opts.rateLimiter ?? new MemoryRateLimiter(),
    redactor: opts.redactor ?? makeRedactor(),
    maxAttempts,
  };
  const attempts: AttemptRecord[] = [];
  const done = (result: Omit<ActionRun<O>, 'attempts' | 'audit' | 'logs'>): ActionRun<O> => ({
    ...result,
    attempts,
    audit: audit.entries,
    logs,
  });
  const checked = registry.validateInput(uses, input);
  if (!checked.ok) {
    const detail = checked.issues.map((i) => i.message).join('; ');
    const error = classify(
      ConnectorError.fatal('invalid_input', `the input of ${uses} is invalid: ${detail}`),
      1,
    );
    attempts.push({ attempt: 1, ok: false, error });
    return done({ ok: false, error });
  }
  for (let attempt = 1; ; attempt++) {
    const { ctx, redactor } = makeTestContext(connector, actionId, { ...shared, input, attempt });
    let error: FailureRecord;
    try {
      const output = await raceSignal(entry.action.run(ctx, input), ctx.signal);
      const valid = registry.validateOutput(uses, output);
      if (valid.ok) {
        attempts.push({ attempt, ok: true });
        return done({ ok: true, output: output as O });
      }
      const detail = valid.issues.map((i) => i.message).join('; ');
      error = classify(
        ConnectorError.fatal('invalid_output', `${uses} returned an invalid output: ${detail}`),
        attempt,
      );
    } catch (err) {
      const failed = classify(err, attempt);
      error = { ...failed, message: redactor.redactString(failed.message) };
    }
    const decision = decideRetry(policy, error);
    if (!decision.retry || decision.delayMs > (opts.maxWaitMs ?? 10_000)) {
      attempts.push({ attempt, ok: false, error });
      return done({ ok: false, error });
    }
    attempts.push({ attempt, ok: false, error, retryInMs: decision.delayMs });
    await new Promise((resolve) => setTimeout(resolve, decision.delayMs));
  }
}
