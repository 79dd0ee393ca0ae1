/**
 * One attempt of one action: input checked against the action's schema, the action called
 * through the integration hub's context (credentials, timeout, rate limit, audit), output
 * checked and returned. Failures come back classified; nothing here decides on retries.
 */
import {
  type ActionEntry,
  type AttemptScope,
  ConnectorError,
  type RunData,
  raceSignal,
  type TraceEvent,
} from '../connector-sdk/index.ts';
import { recordAudit } from '../db/audit.ts';
import { insertTrace } from '../db/step-runs.ts';
import { makeActionContext, makeRedactor, type Redactor } from '../hub/index.ts';
import type { RuntimeDeps } from './deps.ts';
import { classify, type FailureRecord } from './retry.ts';

export interface AttemptRequest extends AttemptScope {
  entry: ActionEntry;
  input: unknown;
  timeoutMs: number;
  /** Fires when the run is cancelled or the process shuts down hard. */
  cancel?: AbortSignal;
  run?: RunData;
  /** The run attempt the traces of a workflow step belong to. */
  runAttempt?: number;
  redactor?: Redactor;
  /** How deep in nested `callAction` calls this attempt is (0 for a step or a job). */
  depth?: number;
}

/** Nested calls (an agent calling tools that call actions) stop here, not in a loop. */
const MAX_DEPTH = 3;

export type AttemptResult = { ok: true; output: unknown } | { ok: false; failure: FailureRecord };

/**
 * The result is what the ledger stores and later steps read: secret values the attempt
 * resolved, and fields named like credentials, are redacted from the output and the error
 * message, so a resumed run reads exactly what an uninterrupted one did.
 */
export async function executeAttempt(deps: RuntimeDeps, req: AttemptRequest): Promise<AttemptResult> {
  const redactor = req.redactor ?? makeRedactor();
  const tokens = new Set<string>();
  let result = await attempt(deps, req, redactor, tokens);
  if (!result.ok && isRejectedToken(result.failure, tokens)) {
    // A token that looked valid was refused (revoked at the provider, rotated elsewhere):
    // renew it once, even if fresh-looking, and try once more. A refresh that fails with
    // invalid_grant disconnects the integration and fails as an auth error.
    const renewed = await renew(deps, req, tokens);
    result = renewed ?? (await attempt(deps, req, redactor, new Set()));
  }
  if (result.ok) return { ok: true, output: redactor.redact(result.output) };
  return {
    ok: false,
    failure: { ...result.failure, message: redactor.redactString(result.failure.message) },
  };
}

function isRejectedToken(failure: FailureRecord, tokens: Set<string>): boolean {
  return failure.kind === 'auth' && failure.status === 401 && tokens.size > 0;
}

async function renew(
  deps: RuntimeDeps,
  req: AttemptRequest,
  providers: Set<string>,
): Promise<AttemptResult | undefined> {
  try {
    for (const provider of providers)
      await deps.tokens.accessToken(req.tenantId, provider, { forceRefresh: true });
    return undefined;
  } catch (err) {
    return fail(err, req.attempt);
  }
}

async function attempt(
  deps: RuntimeDeps,
  req: AttemptRequest,
  redactor: Redactor,
  /** The OAuth providers whose tokens this attempt was handed. */
  tokens: Set<string>,
): Promise<AttemptResult> {
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
  let nested = 0;
  const ctx = makeActionContext({
    connector: entry.connector,
    actionId: entry.action.id,
    input: req.input,
    tenantId: req.tenantId,
    runId: req.runId,
    stepId: req.stepId,
    jobId: req.jobId,
    attempt: req.attempt,
    maxAttempts: req.maxAttempts,
    idempotencyKey: req.idempotencyKey,
    signal,
    log,
    config: deps.connectorConfig(entry.connector),
    audit: deps.audit,
    rateLimiter: deps.rateLimiter,
    secret: (name) => deps.secrets.get(req.tenantId, name),
    accessToken: (provider, opts) => {
      tokens.add(provider);
      return deps.tokens.accessToken(req.tenantId, provider, opts);
    },
    apiHosts: (provider) => {
      const entry = deps.catalogue.oauthProvider(provider);
      return entry === undefined ? undefined : (entry.manifest.apiHosts ?? []);
    },
    ...(deps.ssrf ? { ssrf: deps.ssrf } : {}),
    ...(deps.platform ? { platform: deps.platform } : {}),
    ...(deps.fetchImpl ? { fetchImpl: deps.fetchImpl } : {}),
    ...(req.run ? { run: req.run } : {}),
    redactor,
    callAction: (uses, input) => callNested(deps, req, signal, uses, input, ++nested),
    ...(deps.files ? { files: deps.files.forAction(req.tenantId, actorOf(req)) } : {}),
    trace: (event) => recordTrace(deps, req, redactor, event),
  });
  try {
    const output = await raceSignal(entry.action.run(ctx, req.input), signal);
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

/**
 * Another action in the same tenant context, one attempt, under the caller's timeout and
 * cancellation; its failure is thrown as the ConnectorError it was classified as.
 */
async function callNested(
  deps: RuntimeDeps,
  parent: AttemptRequest,
  signal: AbortSignal,
  uses: string,
  input: unknown,
  n: number,
): Promise<unknown> {
  const depth = (parent.depth ?? 0) + 1;
  if (depth > MAX_DEPTH)
    throw ConnectorError.fatal('too_deep', `actions nest at most ${MAX_DEPTH} levels deep`);
  const entry = deps.connectors.action(uses);
  if (!entry) throw ConnectorError.fatal('unknown_action', `no action "${uses}" is registered`);
  const result = await executeAttempt(deps, {
    ...parent,
    entry,
    input,
    attempt: 1,
    maxAttempts: 1,
    idempotencyKey: `${parent.idempotencyKey}:${uses}:${n}`,
    cancel: signal,
    depth,
  });
  if (result.ok) return result.output;
  const { failure } = result;
  throw new ConnectorError({
    code: failure.code,
    message: failure.message,
    kind: failure.kind === 'timeout' ? 'fatal' : failure.kind,
    ...(failure.status === undefined ? {} : { status: failure.status }),
    ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
  });
}

/** A sub-step of an action, as a ledger row of its job (or of its run, named after its step). */
async function recordTrace(
  deps: RuntimeDeps,
  req: AttemptRequest,
  redactor: Redactor,
  event: TraceEvent,
): Promise<void> {
  const owner = req.jobId
    ? { job_id: req.jobId }
    : req.runId
      ? { run_id: req.runId, run_attempt: req.runAttempt ?? 1 }
      : undefined;
  if (event.audit) {
    await recordAudit(deps.db, {
      tenantId: req.tenantId,
      actor: req.jobId ? `job:${req.jobId}` : `run:${req.runId}`,
      action: event.audit,
      entityType: 'connector_action',
      entityId: event.uses ?? null,
      result: 'error',
      summary: redactor.redact({
        runId: req.runId,
        stepId: req.stepId,
        jobId: req.jobId,
        step: event.name,
        input: event.input,
        error: event.error,
      }),
    });
  }
  if (!owner) return;
  const redacted = (v: unknown) => (v === undefined ? undefined : redactor.redact(v));
  await insertTrace(deps.db, {
    tenantId: req.tenantId,
    owner,
    stepId: req.jobId ? event.name : `${req.stepId}/${event.name}`,
    uses: event.uses ?? null,
    attempt: req.attempt,
    maxAttempts: req.maxAttempts,
    status: event.status,
    input: redacted(event.input),
    output: redacted(event.output),
    error: redacted(event.error),
    worker: deps.processId,
    durationMs: event.durationMs,
  });
}

function fail(err: unknown, attempt: number): AttemptResult {
  return { ok: false, failure: classify(err, attempt) };
}

/** Who a file written by an action was created by: its run or job. */
function actorOf(req: AttemptRequest): string {
  return req.runId ? `run:${req.runId}` : req.jobId ? `job:${req.jobId}` : 'engine';
}
