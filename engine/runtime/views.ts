/**
 * The public shapes of runs and jobs (API responses, CLI output): camelCase, ISO dates.
 */
import type { JobRow } from '../db/jobs.ts';
import type { RunCalls, RunRow } from '../db/runs.ts';
import type { SignalRow } from '../db/signals.ts';
import type { StepRunRow } from '../db/step-runs.ts';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export interface RunSummary {
  id: string;
  tenantId: string;
  workflowId: string;
  manifestHash: string;
  status: RunRow['status'];
  runAttempt: number;
  idempotencyKey: string | null;
  error: unknown;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface AttemptView {
  attempt: number;
  maxAttempts: number;
  runAttempt: number;
  status: StepRunRow['status'];
  uses: string | null;
  input: unknown;
  output: unknown;
  error: unknown;
  skipReason: string | null;
  retryAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

export interface StepView {
  id: string;
  status: StepRunRow['status'] | 'pending';
  attempts: AttemptView[];
}

export interface RunDetail extends RunSummary {
  input: unknown;
  trigger: unknown;
  /** The workflow's `output:` as the run rendered it (null until it succeeds, or without one). */
  output: unknown;
  steps: StepView[];
  /** The run and step whose `workflow.run` started this run, or null. */
  calledBy: RunCalls['calledBy'];
  /** The runs this run started with `workflow.run`, oldest first. */
  calls: RunCalls['calls'];
  /** Every signal the run received, oldest first. */
  signals: ReceivedSignal[];
}

export interface ReceivedSignal {
  name: string;
  /** The `core.waitForSignal` step whose wait it ended. */
  stepId: string;
  payload: unknown;
  sender: string;
  receivedAt: string;
}

export function receivedSignal(row: SignalRow & { step_id: string }): ReceivedSignal {
  return {
    name: row.name,
    stepId: row.step_id,
    payload: row.payload,
    sender: row.sender,
    receivedAt: row.created_at.toISOString(),
  };
}

export function runSummary(row: RunRow): RunSummary {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    workflowId: row.workflow_id,
    manifestHash: row.manifest_hash,
    status: row.status,
    runAttempt: row.run_attempt,
    idempotencyKey: row.idempotency_key,
    error: row.error ?? null,
    createdAt: row.created_at.toISOString(),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

function attemptView(a: StepRunRow): AttemptView {
  return {
    attempt: a.attempt,
    maxAttempts: a.max_attempts,
    runAttempt: a.run_attempt,
    status: a.status,
    uses: a.uses,
    input: a.input,
    output: a.output,
    error: a.error,
    skipReason: a.skip_reason,
    retryAt: iso(a.retry_at),
    startedAt: iso(a.started_at),
    finishedAt: iso(a.finished_at),
    durationMs: a.duration_ms,
  };
}

/** Steps in workflow order, each with every attempt of every run attempt. */
export function runDetail(
  row: RunRow,
  stepOrder: string[],
  attempts: StepRunRow[],
  links: RunCalls = { calledBy: null, calls: [] },
  signals: ReceivedSignal[] = [],
): RunDetail {
  const byStep = new Map<string, StepRunRow[]>();
  for (const a of attempts) byStep.set(a.step_id, [...(byStep.get(a.step_id) ?? []), a]);
  const ids = [...stepOrder, ...[...byStep.keys()].filter((id) => !stepOrder.includes(id))];
  const steps = ids.map((id) => {
    const list = byStep.get(id) ?? [];
    const current = list.filter((a) => a.run_attempt === row.run_attempt).at(-1);
    return { id, status: current?.status ?? ('pending' as const), attempts: list.map(attemptView) };
  });
  return {
    ...runSummary(row),
    input: row.input,
    trigger: row.trigger,
    output: row.output ?? null,
    steps,
    calledBy: links.calledBy,
    calls: links.calls,
    signals,
  };
}

export interface JobSummary {
  id: string;
  tenantId: string;
  type: string;
  uses: string;
  status: JobRow['status'];
  attempts: number;
  maxAttempts: number;
  lastError: unknown;
  result: unknown;
  createdAt: string;
  runAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface JobDetail extends JobSummary {
  payload: unknown;
  /** Every attempt, and for agent tasks every model and tool call, in order. */
  steps: Array<AttemptView & { id: string }>;
}

export function jobSummary(row: JobRow): JobSummary {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    type: row.type,
    uses: row.uses,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    lastError: row.last_error ?? null,
    result: row.result ?? null,
    createdAt: row.created_at.toISOString(),
    runAt: row.run_at.toISOString(),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

export function jobDetail(row: JobRow, steps: StepRunRow[]): JobDetail {
  return {
    ...jobSummary(row),
    payload: row.payload,
    steps: steps.map((s) => ({ id: s.step_id, ...attemptView(s) })),
  };
}
