/**
 * Typed jobs (`EMAIL_SEND`, `SOCIAL_PUBLISH`, `WEBHOOK_SEND`, `KB_INGEST`, `AGENT_TASK`, `TELEGRAM_SEND`):
 * first-class units of work with a ledger row, a schema-checked payload, and the action's
 * own retry schedule. Each job type is served by the connector action that declares it.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { type ActionEntry, JOB_TYPES } from '../connector-sdk/index.ts';
import { claimJob, findJobByKey, insertJob, type JobRow, settleJob } from '../db/jobs.ts';
import { enqueueJobAttempt } from '../db/queue.ts';
import { failRunningJobAttempts, finishJobAttempt, startJobAttempt } from '../db/step-runs.ts';
import { notifyJobFailed } from '../notify/record.ts';
import type { Core } from './core.ts';
import { RuntimeError } from './errors.ts';
import { type AttemptResult, executeAttempt } from './execute.ts';
import { jobCancelKey } from './job-control.ts';
import {
  DEFAULT_TIMEOUT_MS,
  decideRetry,
  type FailureRecord,
  failure,
  jobRetry,
  workerLost,
} from './retry.ts';

/** The action serving a job type, or a clear error while no connector provides one. */
export function jobAction(core: Core, type: string): ActionEntry {
  if (!(JOB_TYPES as readonly string[]).includes(type)) {
    throw new RuntimeError(
      'unknown_job_type',
      `"${type}" is not a job type; expected one of ${JOB_TYPES.join(', ')}.`,
    );
  }
  const entry = core.deps.connectors.actions().find((a) => a.action.jobType === type);
  if (!entry) {
    throw new RuntimeError(
      'unknown_job_type',
      `No connector action serves ${type} jobs in this installation.`,
    );
  }
  return entry;
}

export interface EnqueueJob {
  tenantId: string;
  type: string;
  payload: unknown;
  actor?: string | undefined;
  idempotencyKey?: string | undefined;
}

export async function enqueueJob(
  core: Core,
  req: EnqueueJob,
  db: Knex | Knex.Transaction = core.deps.db,
): Promise<{ job: JobRow; created: boolean }> {
  const entry = jobAction(core, req.type);
  const check = core.deps.connectors.validateInput(entry.uses, req.payload);
  if (!check.ok) throw new RuntimeError('invalid_input', `The ${req.type} payload is invalid.`, check.issues);
  const run = async (trx: Knex.Transaction) => {
    const id = randomUUID();
    const inserted = await insertJob(trx, {
      id,
      tenant_id: req.tenantId,
      type: req.type,
      uses: entry.uses,
      payload: req.payload,
      max_attempts: jobRetry(entry.action.jobRetry).maxAttempts,
      idempotency_key: req.idempotencyKey ?? null,
      actor: req.actor ?? null,
    });
    if (!inserted) {
      const existing = await findJobByKey(trx, req.tenantId, req.type, req.idempotencyKey!);
      return { job: existing!, created: false };
    }
    await enqueueJobAttempt(trx, inserted);
    return { job: inserted, created: true };
  };
  return 'commit' in db ? run(db) : db.transaction(run);
}

/** The queue task: one attempt of a typed job, then its ledger row and the next attempt. */
export async function runJob(core: Core, jobId: string, tenantId: string): Promise<void> {
  const { db } = core.deps;
  const job = await claimJob(db, tenantId, jobId);
  if (!job) return;
  // An attempt row still `running` is from a worker that stopped: closed as lost.
  await failRunningJobAttempts(db, job, workerLost(job.attempts - 1));
  const entry = core.deps.connectors.action(job.uses);
  const attemptId = await startJobAttempt(db, {
    tenantId,
    jobId,
    stepId: job.type,
    uses: job.uses,
    attempt: job.attempts,
    maxAttempts: job.max_attempts,
    input: job.payload,
    worker: core.deps.processId,
  });
  const t0 = performance.now();
  // `POST /v1/jobs/:id/cancel` aborts the attempt in flight, in whichever process runs it.
  const cancel = core.cancels.watch(jobCancelKey(jobId));
  try {
    const result = entry
      ? await executeAttempt(core.deps, {
          entry,
          input: job.payload,
          tenantId,
          jobId,
          attempt: job.attempts,
          maxAttempts: job.max_attempts,
          idempotencyKey: jobId,
          timeoutMs: entry.action.jobTimeoutMs ?? DEFAULT_TIMEOUT_MS,
          cancel: cancel.signal,
        })
      : { ok: false as const, failure: missing(job) };
    const took = Math.round(performance.now() - t0);
    await recordOutcome(core, job, entry, attemptId, result, took, cancel.signal.aborted);
  } finally {
    cancel.release();
  }
}

function missing(job: JobRow): FailureRecord {
  const message = `no action "${job.uses}" is registered`;
  return failure({ code: 'unknown_action', message, kind: 'fatal', attempt: job.attempts });
}

async function recordOutcome(
  core: Core,
  job: JobRow,
  entry: ActionEntry | undefined,
  attemptId: number,
  result: AttemptResult,
  durationMs: number,
  cancelled: boolean,
): Promise<void> {
  const retryAt = result.ok || cancelled ? undefined : nextAttempt(core, job, entry, result.failure);
  await core.deps.db.transaction(async (trx) => {
    await finishJobAttempt(trx, {
      id: attemptId,
      tenantId: job.tenant_id,
      status: result.ok ? 'succeeded' : 'failed',
      ...(result.ok ? { output: result.output } : { error: result.failure }),
      retryAt,
      durationMs,
    });
    await settleJob(
      trx,
      job,
      result.ok ? { ok: true, output: result.output } : { ok: false, error: result.failure, retryAt },
    );
    if (retryAt) await enqueueJobAttempt(trx, job, retryAt);
    else if (!result.ok) await notifyJobFailed(trx, job, result.failure);
  });
  core.metrics.step(job.uses, result.ok ? 'succeeded' : 'failed', durationMs);
}

/** When the next attempt runs, by the action's policy (retry.ts decides); undefined for none. */
function nextAttempt(
  core: Core,
  job: JobRow,
  entry: ActionEntry | undefined,
  failed: FailureRecord,
): Date | undefined {
  const decision = decideRetry(jobRetry(entry?.action.jobRetry, job.max_attempts), failed, core.random);
  if (!decision.retry) return undefined;
  core.metrics.retry(job.uses);
  return new Date(core.now().getTime() + decision.delayMs);
}
