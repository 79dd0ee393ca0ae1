/** What the runtime offers the rest of the engine: the {@link Runtime} and its requests and answers. */
import type { EventEmitter } from 'node:events';
import type { ParsedCronItem, TaskList } from 'graphile-worker';
import type { Knex } from 'knex';
import type { DefaultGate, LastSkip } from './defaults.ts';
import type { AttemptResult } from './execute.ts';
import type { SignalRequest, SignalView } from './signals.ts';
import type { JobDetail, JobSummary, RunDetail, RunSummary } from './views.ts';

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
  retryJob(tenantId: string, jobId: string): Promise<JobSummary>;
  cancelJob(tenantId: string, jobId: string): Promise<JobSummary>;
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
  /** Releases the jobs still locked by queue pool or worker ids of this process that ended. */
  releaseQueueWorkers(ids: string[]): Promise<void>;
  /** What default-on workflows need, and who lacks it. */
  gate: DefaultGate;
  /** Hands committed, undispatched runs to the queue soon (callers that created runs in their own transaction). */
  dispatch(): void;
  stop(): Promise<void>;
}
