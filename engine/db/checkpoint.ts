/**
 * The step checkpoint: finished attempts recorded and the next attempts started in ONE
 * statement (one round trip, one commit), returning the run's status so a cancellation is
 * noticed at every step boundary. A step's output is committed here before any step that
 * reads it starts.
 */
import type { Knex } from 'knex';
import type { RunStatus, StepStatus } from './runs.ts';

export interface FinishedAttempt {
  id: number;
  status: Exclude<StepStatus, 'running'>;
  output?: unknown;
  error?: unknown;
  retryAt?: Date | undefined;
  durationMs: number;
}

export interface NewAttempt {
  stepId: string;
  uses: string;
  attempt: number;
  maxAttempts: number;
  status: StepStatus;
  input?: unknown;
  output?: unknown;
  error?: unknown;
  skipReason?: string;
  retryAt?: Date | undefined;
}

export interface CheckpointResult {
  runStatus: RunStatus | undefined;
  /** Ledger ids of the new attempts, by step id. */
  ids: Map<string, number>;
}

export async function checkpoint(
  db: Knex | Knex.Transaction,
  run: { tenantId: string; runId: string; runAttempt: number; worker: string },
  finished: FinishedAttempt[],
  started: NewAttempt[],
): Promise<CheckpointResult> {
  const finishedJson = JSON.stringify(
    finished.map((f) => ({
      id: f.id,
      status: f.status,
      output: f.output === undefined ? null : f.output,
      error: f.error ?? null,
      retry_at: f.retryAt?.toISOString() ?? null,
      duration_ms: f.durationMs,
    })),
  );
  const startedJson = JSON.stringify(
    started.map((s) => ({
      step_id: s.stepId,
      uses: s.uses,
      attempt: s.attempt,
      max_attempts: s.maxAttempts,
      status: s.status,
      input: s.input === undefined ? null : s.input,
      output: s.output === undefined ? null : s.output,
      error: s.error ?? null,
      skip_reason: s.skipReason ?? null,
      retry_at: s.retryAt?.toISOString() ?? null,
      finished: s.status !== 'running',
    })),
  );
  const { rows } = await db.raw<{
    rows: Array<{ run_status: RunStatus | null; started: Array<[string, number]> | null }>;
  }>(
    `with done as (
       update step_runs s
          set status = f.status, output = f.output, error = f.error, retry_at = f.retry_at,
              duration_ms = f.duration_ms, finished_at = now()
         from json_to_recordset(?::json) as f(id bigint, status text, output jsonb, error jsonb,
                                              retry_at timestamptz, duration_ms int)
        where s.id = f.id and s.tenant_id = ?
       returning s.id
     ), started as (
       insert into step_runs (tenant_id, run_id, run_attempt, worker, step_id, uses, attempt, max_attempts,
                              status, input, output, error, skip_reason, retry_at, finished_at, duration_ms)
       select ?, ?::uuid, ?, ?, n.step_id, n.uses, n.attempt, n.max_attempts, n.status, n.input, n.output,
              n.error, n.skip_reason, n.retry_at, case when n.finished then now() end,
              case when n.finished then 0 end
         from json_to_recordset(?::json) as n(step_id text, uses text, attempt int, max_attempts int,
              status text, input jsonb, output jsonb, error jsonb, skip_reason text, retry_at timestamptz,
              finished boolean)
       returning step_id, id
     )
     select (select status from workflow_runs where id = ?::uuid and tenant_id = ?) as run_status,
            (select json_agg(json_build_array(step_id, id)) from started) as started,
            (select count(*) from done) as done`,
    [
      finishedJson,
      run.tenantId,
      run.tenantId,
      run.runId,
      run.runAttempt,
      run.worker,
      startedJson,
      run.runId,
      run.tenantId,
    ],
  );
  const row = rows[0];
  return {
    runStatus: row?.run_status ?? undefined,
    ids: new Map(row?.started ?? []),
  };
}
