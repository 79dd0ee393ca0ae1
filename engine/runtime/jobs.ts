/**
 * Typed jobs (`EMAIL_SEND`, `SOCIAL_PUBLISH`, `WEBHOOK_SEND`, `KB_INGEST`, `AGENT_TASK`):
 * first-class units of work with a ledger row, a schema-checked payload, and the action's
 * own retry schedule. Each job type is served by the connector action that declares it.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { type ActionEntry, JOB_TYPES, type JobType } from '../connector-sdk/index.ts';
import { addJob } from '../queue/add-job.ts';
import type { Core } from './core.ts';
import { RuntimeError } from './errors.ts';
import { executeAttempt } from './execute.ts';
import { DEFAULT_RETRY, DEFAULT_TIMEOUT_MS, decideRetry, type FailureRecord } from './retry.ts';

export const JOB_TASK = 'atlas.job';

export interface JobRow {
  id: string;
  tenant_id: string;
  type: JobType;
  uses: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  payload: unknown;
  attempts: number;
  max_attempts: number;
  last_error: unknown;
  result: unknown;
  idempotency_key: string | null;
  actor: string | null;
  run_at: Date;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

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
    const inserted = (await trx('jobs')
      .insert({
        id,
        tenant_id: req.tenantId,
        type: req.type,
        uses: entry.uses,
        status: 'queued',
        payload: JSON.stringify(req.payload),
        max_attempts: entry.action.jobRetry?.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
        idempotency_key: req.idempotencyKey ?? null,
        actor: req.actor ?? null,
      })
      .onConflict(trx.raw('(tenant_id, type, idempotency_key) where idempotency_key is not null'))
      .ignore()
      .returning('*')) as JobRow[];
    if (inserted.length === 0) {
      const existing = (await trx('jobs')
        .where({ tenant_id: req.tenantId, type: req.type, idempotency_key: req.idempotencyKey! })
        .first()) as JobRow | undefined;
      return { job: existing!, created: false };
    }
    await addJob(trx, {
      task: JOB_TASK,
      payload: { jobId: id, tenantId: req.tenantId },
      jobKey: `job:${id}`,
    });
    return { job: inserted[0]!, created: true };
  };
  return 'commit' in db ? run(db) : db.transaction(run);
}

/** The queue task: one attempt of a typed job, then its ledger row and the next attempt. */
export async function runJob(core: Core, jobId: string, tenantId: string): Promise<void> {
  const { db } = core.deps;
  const [job] = (await db('jobs')
    .where({ id: jobId, tenant_id: tenantId })
    .whereIn('status', ['queued', 'running'])
    .update({
      status: 'running',
      attempts: db.raw('attempts + 1'),
      started_at: db.raw('coalesce(started_at, now())'),
    })
    .returning('*')) as JobRow[];
  if (!job) return;
  await markLostAttempts(db, job);
  const entry = core.deps.connectors.action(job.uses);
  const started = await db('step_runs')
    .insert({
      tenant_id: tenantId,
      job_id: jobId,
      step_id: job.type,
      uses: job.uses,
      attempt: job.attempts,
      max_attempts: job.max_attempts,
      status: 'running',
      input: JSON.stringify(job.payload),
      worker: core.deps.processId,
    })
    .returning('id');
  const t0 = performance.now();
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
      })
    : { ok: false as const, failure: missing(job) };
  await recordOutcome(core, job, entry, started[0]!.id as number, result, Math.round(performance.now() - t0));
}

function missing(job: JobRow): FailureRecord {
  const message = `no action "${job.uses}" is registered`;
  return { code: 'unknown_action', message, kind: 'fatal', retryable: false, attempt: job.attempts };
}

/** An attempt row still `running` from a worker that stopped is closed as lost. */
async function markLostAttempts(db: Knex, job: JobRow): Promise<void> {
  await db('step_runs')
    .where({ tenant_id: job.tenant_id, job_id: job.id, status: 'running' })
    .update({
      status: 'failed',
      finished_at: db.fn.now(),
      error: JSON.stringify({
        code: 'worker_lost',
        message: 'the worker running this attempt stopped',
        kind: 'retryable',
      }),
    });
}

async function recordOutcome(
  core: Core,
  job: JobRow,
  entry: ActionEntry | undefined,
  attemptId: number,
  result: Awaited<ReturnType<typeof executeAttempt>>,
  durationMs: number,
): Promise<void> {
  const { db } = core.deps;
  const retry = result.ok ? undefined : nextAttempt(core, job, entry, result.failure);
  await db.transaction(async (trx) => {
    await trx('step_runs')
      .where({ id: attemptId, tenant_id: job.tenant_id })
      .update({
        status: result.ok ? 'succeeded' : 'failed',
        output: result.ok ? JSON.stringify(result.output) : null,
        error: result.ok ? null : JSON.stringify(result.failure),
        retry_at: retry ?? null,
        finished_at: trx.fn.now(),
        duration_ms: durationMs,
      });
    await trx('jobs')
      .where({ id: job.id, tenant_id: job.tenant_id, status: 'running' })
      .update({
        status: result.ok ? 'succeeded' : retry ? 'queued' : 'failed',
        result: result.ok ? JSON.stringify(result.output) : null,
        last_error: result.ok ? null : JSON.stringify(result.failure),
        run_at: retry ?? trx.fn.now(),
        finished_at: result.ok || !retry ? trx.fn.now() : null,
        updated_at: trx.fn.now(),
      });
    if (retry)
      await addJob(trx, {
        task: JOB_TASK,
        payload: { jobId: job.id, tenantId: job.tenant_id },
        jobKey: `job:${job.id}`,
        runAt: retry,
      });
  });
  core.metrics.step(job.uses, result.ok ? 'succeeded' : 'failed', durationMs);
}

function nextAttempt(
  core: Core,
  job: JobRow,
  entry: ActionEntry | undefined,
  failure: FailureRecord,
): Date | undefined {
  if (!failure.retryable) return undefined;
  const policy = entry?.action.jobRetry;
  const delay = policy
    ? job.attempts < policy.maxAttempts
      ? policy.delayMs(job.attempts, failure.retryAfterMs, core.random)
      : undefined
    : (() => {
        const d = decideRetry({ ...DEFAULT_RETRY, maxAttempts: job.max_attempts }, failure, core.random);
        return d.retry ? d.delayMs : undefined;
      })();
  if (delay === undefined) return undefined;
  core.metrics.retry(job.uses);
  return new Date(core.now().getTime() + delay);
}
