/**
 * One attempt of one action: input checked against the action's schema, the action called
 * through the integration hub's context (credentials, timeout, rate limit, audit), output
 * checked and returned. Failures come back classified; nothing here decides on retries.
 */
import { type ActionEntry, ConnectorError, type RunData } from '../connector-sdk/index.ts';
import { makeActionContext, makeRedactor, type Redactor } from '../hub/index.ts';
import type { RuntimeDeps } from './deps.ts';
import { classify, type FailureRecord } from './retry.ts';

export interface AttemptRequest {
  entry: ActionEntry;
  input: unknown;
  tenantId: string;
  runId?: string;
  stepId?: string;
  jobId?: string;
  attempt: number;
  maxAttempts: number;
  idempotencyKey: string;
  timeoutMs: number;
  /** Fires when the run is cancelled or the process shuts down hard. */
  cancel?: AbortSignal;
  run?: RunData;
  redactor?: Redactor;
}

export type AttemptResult = { ok: true; output: unknown } | { ok: false; failure: FailureRecord };

export async function executeAttempt(deps: RuntimeDeps, req: AttemptRequest): Promise<AttemptResult> {
  const { entry } = req;
  const checked = deps.connectors.validateInput(entry.uses, req.input);
  if (!checked.ok) {
    const detail = checked.issues.map((i) => i.message).join('; ');
    return fail(
      ConnectorError.fatal('invalid_input', `the input of ${entry.uses} is invalid: ${detail}`),
      req.attempt,
    );
  }
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.cancel ? AbortSignal.any([timeout, req.cancel]) : timeout;
  const log = deps.log.child({
    tenant: req.tenantId,
    run: req.runId,
    step: req.stepId,
    job: req.jobId,
    connector: entry.connector.id,
    action: entry.action.id,
    attempt: `${req.attempt}/${req.maxAttempts}`,
  });
  const ctx = makeActionContext({
    connector: entry.connector,
    actionId: entry.action.id,
    input: req.input,
    tenantId: req.tenantId,
    ...(req.runId === undefined ? {} : { runId: req.runId }),
    ...(req.stepId === undefined ? {} : { stepId: req.stepId }),
    ...(req.jobId === undefined ? {} : { jobId: req.jobId }),
    attempt: req.attempt,
    maxAttempts: req.maxAttempts,
    idempotencyKey: req.idempotencyKey,
    signal,
    log,
    config: deps.connectorConfig(entry.connector),
    audit: deps.audit,
    rateLimiter: deps.rateLimiter,
    secret: (name) => deps.secrets.get(req.tenantId, name),
    accessToken: (provider, opts) => deps.tokens.accessToken(req.tenantId, provider, opts),
    ...(deps.ssrf ? { ssrf: deps.ssrf } : {}),
    ...(req.run ? { run: req.run } : {}),
    redactor: req.redactor ?? makeRedactor(),
  });
  try {
    const output = await raceAbort(entry.action.run(ctx, req.input), signal);
    const out = deps.connectors.validateOutput(entry.uses, output);
    if (!out.ok) {
      const detail = out.issues.map((i) => i.message).join('; ');
      return fail(
        ConnectorError.fatal('invalid_output', `${entry.uses} returned an invalid output: ${detail}`),
        req.attempt,
      );
    }
    return { ok: true, output: output ?? null };
  } catch (err) {
    if (req.cancel?.aborted)
      return fail(ConnectorError.fatal('cancelled', 'the run was cancelled'), req.attempt);
    if (timeout.aborted) {
      return fail(
        ConnectorError.retryable('timeout', `the step timed out after ${req.timeoutMs} ms`),
        req.attempt,
      );
    }
    return fail(err, req.attempt);
  }
}

function fail(err: unknown, attempt: number): AttemptResult {
  return { ok: false, failure: classify(err, attempt) };
}

/**
 * An action that ignores its signal must not hold the step past its timeout: the attempt
 * ends when the signal fires, whatever the action is still doing.
 */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
