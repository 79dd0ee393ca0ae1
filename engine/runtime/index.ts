/**
 * The runtime: starting runs and jobs, reading them, recovering them, and the queue tasks
 * that execute them. `makeRuntime` is called once per process and passed down.
 */
import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { ParsedCronItem, TaskList } from 'graphile-worker';
import type { Knex } from 'knex';
import { getJob } from '../db/jobs.ts';
import { JOB_TASK, RUN_TASK } from '../db/queue.ts';
import { withTenant } from '../db/rls.ts';
import { getRunWithAttempts, listRuns } from '../db/runs.ts';
import { signalsOfRun } from '../db/signals.ts';
import { jobStepRuns } from '../db/step-runs.ts';
import { getWorkflowState, putWorkflowState, workflowChoices } from '../db/tenant-workflows.ts';
import { lastSkips, loadHoldings } from '../db/workflow-skips.ts';
import { describeRequirements } from '../manifest/requirements.ts';
import { advanceRun } from './advance.ts';
import { cancelRun, restartRun, retryRun } from './control.ts';
import { Core } from './core.ts';
import { cronItems, fireSchedule, SCHEDULE_TASK } from './cron.ts';
import { type DefaultGate, isDefaultOn, type LastSkip } from './defaults.ts';
import type { RuntimeDeps } from './deps.ts';
import { RuntimeError } from './errors.ts';
import { type AttemptResult, executeAttempt } from './execute.ts';
import { enqueueJob, runJob } from './jobs.ts';
import { Liveness } from './liveness.ts';
import { makeMetrics } from './metrics.ts';
import { type SignalRequest, type SignalView, sendSignal } from './signals.ts';
import { createRun, InputSchemas } from './trigger.ts';
import {
  type JobDetail,
  type JobSummary,
  jobDetail,
  jobSummary,
  type RunDetail,
  type RunSummary,
  receivedSignal,
  runDetail,
  runSummary,
} from './views.ts';

export type { RuntimeDeps, SecretStore, TokenSource } from './deps.ts';
export { RuntimeError, type RuntimeErrorCode } from './errors.ts';
export type { AttemptResult } from './execute.ts';
export type { AttemptView, JobDetail, JobSummary, RunDetail, RunSummary, StepView } from './views.ts';

export interface TriggerRequest {
  tenantId: string;
  workflowId: string;
  input?: unknown;
  idempotencyKey?: string | undefined;
  actor?: string | undefined;
  /** What started it; `{ type: 'manual' }` by default. */
  trigger?: Record<string, unknown>;
}

export interface RunListFilter {
  workflowId?: string | undefined;
  status?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface WorkflowState {
  enabled: boolean;
  config: Record<string, unknown>;
  /** The tenant enabled or disabled it itself; false: an `enabled: default` workflow runs by default. */
  chosen?: boolean;
}

export interface WorkflowStatus extends WorkflowState {
  /** `enabled: default` in the manifest: on for every tenant that did not turn it off. */
  byDefault: boolean;
  /** What it needs from a tenant, in one line (`secrets A; integrations google; config chatId`). */
  requirements: string;
  /** Why a schedule, webhook or event would skip this tenant now (default-on, not enabled by the tenant). */
  missing?: string;
  /** The latest recorded skip. */
  lastSkip?: LastSkip;
}

export interface Runtime {
  trigger(req: TriggerRequest, trx?: Knex.Transaction): Promise<{ run: RunSummary; created: boolean }>;
  getRun(tenantId: string, runId: string): Promise<RunDetail | undefined>;
  listRuns(tenantId: string, filter: RunListFilter): Promise<{ items: RunSummary[]; nextCursor?: string }>;
  retry(tenantId: string, runId: string): Promise<RunSummary>;
  restart(tenantId: string, runId: string): Promise<RunSummary>;
  cancel(tenantId: string, runId: string): Promise<RunSummary>;
  /** Delivers a signal to a run waiting for it (`core.waitForSignal`); in `trx` when given. */
  signal(req: SignalRequest, trx?: Knex.Transaction): Promise<SignalView>;
  enqueueJob(
    req: { tenantId: string; type: string; payload: unknown; actor?: string; idempotencyKey?: string },
    trx?: Knex.Transaction,
  ): Promise<JobSummary & { created: boolean }>;
  getJob(tenantId: string, jobId: string): Promise<JobDetail | undefined>;
  workflowState(tenantId: string, workflowId: string): Promise<WorkflowState>;
  /** Every workflow of the catalogue as this tenant sees it: enabled, needs, why it is skipped. */
  workflowStatuses(tenantId: string): Promise<Map<string, WorkflowStatus>>;
  setWorkflowState(
    tenantId: string,
    workflowId: string,
    state: Partial<WorkflowState>,
  ): Promise<WorkflowState>;
  /**
   * Calls one action now for a tenant, outside any run or job: one attempt through the hub
   * (credentials, rate limits, audit), as a step would (the API's knowledge base search).
   */
  callAction(tenantId: string, uses: string, input: unknown, timeoutMs?: number): Promise<AttemptResult>;
  /** Resolves once the run is finished (or the timeout passes), polling the ledger. */
  waitForRun(tenantId: string, runId: string, timeoutMs: number): Promise<RunDetail | undefined>;
}

export interface RuntimeHandle {
  runtime: Runtime;
  tasks: TaskList;
  cronItems: ParsedCronItem[];
  /** Starts heartbeats, the reaper and the cancellation listener (worker processes). */
  startWorker(events: EventEmitter, connectionString: string): Promise<void>;
  /** What default-on workflows need, and who lacks it. */
  gate: DefaultGate;
  /** Hands committed, undispatched runs to the queue soon (callers that created runs in their own transaction). */
  dispatch(): void;
  stop(): Promise<void>;
}

export function makeRuntime(deps: RuntimeDeps, opts: { cronBackfillMs?: number } = {}): RuntimeHandle {
  const core = new Core(deps, makeMetrics(deps.db));
  const isDefault = (workflowId: string): boolean => {
    const entry = deps.catalogue.workflow(workflowId);
    return entry !== undefined && isDefaultOn(entry.manifest);
  };
  const { dispatcher } = core;
  // Every process that creates runs also sweeps up runs whose creator died before handing
  // them to the queue.
  dispatcher.startSweep();
  const inputs = new InputSchemas();
  let liveness: Liveness | undefined;

  const runtime: Runtime = {
    trigger: (req, trx) => trigger(core, inputs, req, trx),
    // Reads for a tenant run as `atlas_app` with the tenant set: row-level security is a
    // second wall behind every query's own tenant filter.
    async getRun(tenantId, runId) {
      const found = await withTenant(deps.db, tenantId, async (trx) => {
        const run = await getRunWithAttempts(trx, tenantId, runId);
        return run && { ...run, signals: await signalsOfRun(trx, tenantId, runId) };
      });
      if (!found) return undefined;
      const workflow = await core.versions.of(found.run);
      return runDetail(
        found.run,
        workflow.steps.map((s) => s.id),
        found.attempts,
        found.signals.map(receivedSignal),
      );
    },
    async listRuns(tenantId, filter) {
      const limit = Math.min(Math.max(filter.limit, 1), 200);
      const before = decodeCursor(filter.cursor);
      const rows = await withTenant(deps.db, tenantId, (trx) =>
        listRuns(trx, tenantId, { ...filter, limit: limit + 1, ...before }),
      );
      const items = rows.slice(0, limit).map(runSummary);
      const last = rows.length > limit ? rows[limit - 1] : undefined;
      return last ? { items, nextCursor: encodeCursor(last.created_at, last.id) } : { items };
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
    workflowState: (tenantId, workflowId) =>
      withTenant(deps.db, tenantId, (trx) =>
        getWorkflowState(trx, tenantId, workflowId, isDefault(workflowId)),
      ),
    workflowStatuses: (tenantId) =>
      withTenant(deps.db, tenantId, async (trx) => {
        const rows = await workflowChoices(trx, tenantId);
        const byId = new Map(rows.map((r) => [r.workflow_id, r]));
        const held = (await loadHoldings(trx, [tenantId])).get(tenantId)!;
        const skips = await lastSkips(trx, tenantId);
        const out = new Map<string, WorkflowStatus>();
        for (const entry of deps.catalogue.workflows()) {
          const id = entry.manifest.id;
          const row = byId.get(id);
          const byDefault = isDefaultOn(entry.manifest);
          const missing = byDefault && !row ? core.gate.missing(entry, held) : undefined;
          const lastSkip = skips.get(id);
          out.set(id, {
            enabled: row?.enabled ?? byDefault,
            config: row?.config ?? {},
            chosen: row !== undefined,
            byDefault,
            requirements: describeRequirements(core.gate.requirements(entry)),
            ...(missing === undefined ? {} : { missing }),
            ...(lastSkip === undefined ? {} : { lastSkip }),
          });
        }
        return out;
      }),
    async setWorkflowState(tenantId, workflowId, state) {
      const entry = deps.catalogue.workflow(workflowId);
      if (!entry) throw new RuntimeError('unknown_workflow', `There is no workflow ${workflowId}.`);
      const current = await getWorkflowState(deps.db, tenantId, workflowId, isDefaultOn(entry.manifest));
      const next = { enabled: state.enabled ?? current.enabled, config: state.config ?? current.config };
      // A disabled workflow may keep an incomplete config; one that runs must fit the schema.
      if (next.enabled) inputs.checkConfig(entry, next.config);
      await putWorkflowState(deps.db, tenantId, workflowId, next);
      return next;
    },
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

  const tasks: TaskList = {
    [RUN_TASK]: async (payload) => {
      const { runId, tenantId } = payload as { runId: string; tenantId: string };
      await advanceRun(core, runId, tenantId);
    },
    [JOB_TASK]: async (payload) => {
      const { jobId, tenantId } = payload as { jobId: string; tenantId: string };
      await runJob(core, jobId, tenantId);
    },
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
        onCancel: (runId) => core.cancels.abort(runId),
      });
      events.on('pool:create', ({ workerPool }: { workerPool: { id: string } }) =>
        liveness?.addQueueWorker(workerPool.id),
      );
      events.on('worker:create', ({ worker }: { worker: { workerId: string } }) =>
        liveness?.addQueueWorker(worker.workerId),
      );
      await liveness.start();
    },
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

function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url');
}

function decodeCursor(cursor: string | undefined): { before?: { createdAt: Date; id: string } } {
  if (!cursor) return {};
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string];
    const createdAt = new Date(at);
    if (Number.isNaN(createdAt.getTime()) || typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id))
      throw new Error();
    return { before: { createdAt, id } };
  } catch {
    throw new RuntimeError('invalid_input', 'The cursor is not one this API returned.');
  }
}
