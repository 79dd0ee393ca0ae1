/**
 * The runtime: starting runs and jobs, reading them, recovering them, and the queue tasks
 * that execute them. `makeRuntime` is called once per process and passed down.
 */
import { randomUUID } from 'node:crypto';
import type { Task, TaskList } from 'graphile-worker';
import type { Knex } from 'knex';
import { JOB_TYPES } from '../connector-sdk/index.ts';
import { getJob } from '../db/jobs.ts';
import { JOB_TASK, jobTask, RUN_TASK } from '../db/queue.ts';
import { withTenant } from '../db/rls.ts';
import { getRunWithAttempts, listRuns } from '../db/runs.ts';
import { jobStepRuns } from '../db/step-runs.ts';
import { decodeCursor, encodeCursor } from '../json/cursor.ts';
import { advanceRun } from './advance.ts';
import type { Runtime, RuntimeHandle, TriggerRequest } from './api.ts';
import { cancelRun, restartRun, retryRun } from './control.ts';
import { Core } from './core.ts';
import { cronItems, fireSchedule, SCHEDULE_TASK } from './cron.ts';
import type { RuntimeDeps } from './deps.ts';
import { RuntimeError } from './errors.ts';
import { executeAttempt } from './execute.ts';
import { cancelJob, retryJob } from './job-control.ts';
import { enqueueJob, runJob } from './jobs.ts';
import { Liveness } from './liveness.ts';
import { makeMetrics } from './metrics.ts';
import { sendSignal } from './signals.ts';
import { createRun, type InputSchemas } from './trigger.ts';
import { jobDetail, jobSummary, receivedSignal, runDetail, runSummary } from './views.ts';
import { setWorkflowState, workflowState, workflowStatuses } from './workflow-states.ts';

export type {
  RunListFilter,
  Runtime,
  RuntimeHandle,
  TriggerRequest,
  WorkflowState,
  WorkflowStatus,
} from './api.ts';
export type { RuntimeDeps, SecretStore, TokenSource } from './deps.ts';
export { RuntimeError, type RuntimeErrorCode } from './errors.ts';
export type { AttemptResult } from './execute.ts';
export type { AttemptView, JobDetail, JobSummary, RunDetail, RunSummary, StepView } from './views.ts';

export function makeRuntime(
  deps: RuntimeDeps,
  opts: { cronBackfillMs?: number; workerTimeoutMs?: number } = {},
): RuntimeHandle {
  const core = new Core(deps, makeMetrics(deps.db));
  const { dispatcher } = core;
  // Every process that creates runs also sweeps up runs whose creator died before handing
  // them to the queue.
  dispatcher.startSweep();
  const inputs = core.inputs;
  let liveness: Liveness | undefined;

  const runtime: Runtime = {
    trigger: (req, trx) => trigger(core, inputs, req, trx),
    // Reads for a tenant run as `atlas_app` with the tenant set: row-level security is a
    // second wall behind every query's own tenant filter.
    async getRun(tenantId, runId) {
      const found = await getRunWithAttempts(deps.db, tenantId, runId);
      if (!found) return undefined;
      const workflow = await core.versions.of(found.run);
      return runDetail(
        found.run,
        workflow.steps.map((s) => s.id),
        found.attempts,
        found.calls,
        found.signals.map(receivedSignal),
      );
    },
    async listRuns(tenantId, filter) {
      const limit = Math.min(Math.max(filter.limit, 1), 200);
      const before = runsCursor(filter.cursor);
      const rows = await listRuns(deps.db, tenantId, { ...filter, limit: limit + 1, ...before });
      const items = rows.slice(0, limit).map(runSummary);
      const last = rows.length > limit ? rows[limit - 1] : undefined;
      return last ? { items, nextCursor: encodeCursor([last.created_at.toISOString(), last.id]) } : { items };
    },
    retry: async (t, id) => runSummary(await retryRun(core, t, id)),
    restart: async (t, id) => runSummary(await restartRun(core, t, id)),
    cancel: async (t, id) => runSummary(await cancelRun(core, t, id)),
    signal: (req, trx) => sendSignal(core, req, trx),
    async enqueueJob(req, trx) {
      const { job, created } = await enqueueJob(core, req, trx);
      return { ...jobSummary(job), created };
    },
    getJob: (tenantId, jobId) =>
      withTenant(deps.db, tenantId, async (trx) => {
        const row = await getJob(trx, tenantId, jobId);
        return row && jobDetail(row, await jobStepRuns(trx, tenantId, jobId));
      }),
    retryJob: async (t, id) => jobSummary(await retryJob(core, t, id)),
    cancelJob: async (t, id) => jobSummary(await cancelJob(core, t, id)),
    workflowState: (tenantId, workflowId) => workflowState(core, tenantId, workflowId),
    workflowStatuses: (tenantId) => workflowStatuses(core, tenantId),
    setWorkflowState: (tenantId, workflowId, state) =>
      setWorkflowState(core, inputs, tenantId, workflowId, state),
    async callAction(tenantId, uses, input, timeoutMs = 30_000) {
      const entry = deps.connectors.action(uses);
      if (!entry) throw new RuntimeError('invalid_input', `No action "${uses}" is registered.`);
      return executeAttempt(deps, {
        entry,
        input,
        tenantId,
        attempt: 1,
        maxAttempts: 1,
        idempotencyKey: `call:${randomUUID()}`,
        timeoutMs,
      });
    },
    async waitForRun(tenantId, runId, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const run = await runtime.getRun(tenantId, runId);
        if (!run || ['succeeded', 'failed', 'cancelled'].includes(run.status) || Date.now() >= deadline)
          return run;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };

  const jobTaskHandler: Task = async (payload) => {
    const { jobId, tenantId } = payload as { jobId: string; tenantId: string };
    await runJob(core, jobId, tenantId);
  };
  const tasks: TaskList = {
    [RUN_TASK]: async (payload) => {
      const { runId, tenantId } = payload as { runId: string; tenantId: string };
      await advanceRun(core, runId, tenantId);
    },
    [JOB_TASK]: jobTaskHandler,
    ...Object.fromEntries(JOB_TYPES.map((type) => [jobTask(type), jobTaskHandler])),
    [SCHEDULE_TASK]: async (payload) => {
      await fireSchedule(core, payload as { workflowId: string });
    },
  };

  return {
    runtime,
    tasks,
    cronItems: cronItems(deps.catalogue, opts.cronBackfillMs ?? 0),
    async startWorker(events, connectionString) {
      liveness = new Liveness({
        db: deps.db,
        connectionString,
        processId: deps.processId,
        log: deps.log,
        leaseMs: core.claims.leaseMs,
        activeRuns: () => core.cancels.running(),
        ...(opts.workerTimeoutMs ? { staleMs: opts.workerTimeoutMs, beatMs: opts.workerTimeoutMs / 4 } : {}),
        onCancel: (runId) => core.cancels.abort(runId),
        onWake: (runId) => core.cancels.wake(runId),
      });
      events.on('pool:create', ({ workerPool }: { workerPool: { id: string } }) =>
        liveness?.addQueueWorker(workerPool.id),
      );
      events.on('worker:create', ({ worker }: { worker: { workerId: string } }) =>
        liveness?.addQueueWorker(worker.workerId),
      );
      await liveness.start();
    },
    releaseQueueWorkers: async (ids) => liveness?.releaseQueueWorkers(ids),
    gate: core.gate,
    dispatch: () => dispatcher.poke(),
    async stop() {
      await dispatcher.stop();
      await liveness?.stop();
    },
  };
}

/** In the caller's transaction when given (the API audits in it), else one statement alone. */
async function trigger(
  core: Core,
  inputs: InputSchemas,
  req: TriggerRequest,
  db: Knex.Transaction | undefined,
) {
  const entry = core.deps.catalogue.workflow(req.workflowId);
  if (!entry) throw new RuntimeError('unknown_workflow', `There is no workflow ${req.workflowId}.`);
  const input = req.input ?? {};
  inputs.check(entry, input);
  const request = {
    tenantId: req.tenantId,
    entry,
    input,
    trigger: req.trigger ?? { type: 'manual', at: new Date().toISOString(), by: req.actor ?? null },
    idempotencyKey: req.idempotencyKey,
  };
  // In the caller's transaction, the run goes through the outbox once that commits; alone,
  // it is group-committed with its queue job, durable before the caller hears of it.
  const outcome = db
    ? await createRun(db, { ...request, onCommitted: () => core.dispatcher.poke() })
    : await core.triggers.submit(request);
  if ('error' in outcome) throw outcome.error;
  const { run, created } = outcome;
  if (created)
    core.deps.log.debug({ tenant: req.tenantId, run: run.id, workflow: entry.manifest.id }, 'run:queued');
  return { run: runSummary(run), created };
}

/** The runs list's position, `[createdAt, id]`, in the one cursor format. */
function runsCursor(cursor: string | undefined): { before?: { createdAt: Date; id: string } } {
  let position: [string, string] | undefined;
  try {
    position = decodeCursor(cursor || undefined, 'pair');
  } catch {
    position = ['', ''];
  }
  if (position === undefined) return {};
  const [at, id] = position;
  const createdAt = new Date(at);
  if (Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/.test(id))
    throw new RuntimeError('invalid_input', 'The cursor is not one this API returned.');
  return { before: { createdAt, id } };
}
