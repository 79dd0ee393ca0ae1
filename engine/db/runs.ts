/**
 * Queries of the run ledger: `workflow_runs`, `step_runs`, `manifest_versions`. Every query
 * names its tenant.
 */
import type { Knex } from 'knex';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type StepStatus = 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export interface RunRow {
  id: string;
  tenant_id: string;
  workflow_id: string;
  manifest_hash: string;
  status: RunStatus;
  input: unknown;
  trigger: unknown;
  idempotency_key: string | null;
  concurrency_key: string | null;
  concurrency_limit: number | null;
  run_attempt: number;
  error: unknown;
  /** The workflow's `output:`, rendered when the run succeeded. */
  output?: unknown;
  parent_run_id: string | null;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

export interface StepRunRow {
  id: number;
  tenant_id: string;
  run_id: string | null;
  job_id: string | null;
  step_id: string;
  uses: string | null;
  run_attempt: number;
  attempt: number;
  max_attempts: number;
  status: StepStatus;
  input: unknown;
  output: unknown;
  error: unknown;
  skip_reason: string | null;
  retry_at: Date | null;
  worker: string | null;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
}

/** Stores manifest versions once each; runs refer to them by hash. */
export async function saveManifestVersions(
  db: Knex,
  versions: Array<{ hash: string; kind: string; id: string; content: unknown }>,
): Promise<void> {
  if (versions.length === 0) return;
  await db('manifest_versions')
    .insert(
      versions.map((v) => ({
        hash: v.hash,
        kind: v.kind,
        manifest_id: v.id,
        content: JSON.stringify(v.content),
      })),
    )
    .onConflict('hash')
    .ignore();
}

export async function loadManifestVersion(db: Knex, hash: string): Promise<unknown | undefined> {
  const row = await db('manifest_versions').where({ hash }).first('content');
  return row?.content;
}

export async function findRunByKey(
  db: Knex,
  tenantId: string,
  workflowId: string,
  key: string,
): Promise<RunRow | undefined> {
  return db<RunRow>('workflow_runs')
    .where({ tenant_id: tenantId, workflow_id: workflowId, idempotency_key: key })
    .first();
}

/** A run and all its step attempts (oldest first) in one round trip. */
export async function getRunWithAttempts(
  db: Knex,
  tenantId: string,
  runId: string,
): Promise<{ run: RunRow; attempts: StepRunRow[] } | undefined> {
  const { rows } = await db.raw<{ rows: Array<RunRow & { attempts: Array<Record<string, unknown>> }> }>(
    `select r.*, coalesce((select json_agg(s order by s.run_attempt, s.id) from step_runs s
                            where s.tenant_id = r.tenant_id and s.run_id = r.id), '[]'::json) as attempts
       from workflow_runs r where r.tenant_id = ? and r.id = ?`,
    [tenantId, runId],
  );
  const row = rows[0];
  if (!row) return undefined;
  const { attempts, ...run } = row;
  const date = (v: unknown) => (typeof v === 'string' ? new Date(v) : null);
  return {
    run: run as RunRow,
    // json_agg gives timestamps as text; the views expect Dates.
    attempts: attempts.map((a) => ({
      ...(a as unknown as StepRunRow),
      started_at: date(a.started_at) as Date,
      finished_at: date(a.finished_at),
      retry_at: date(a.retry_at),
    })),
  };
}

/** The latest attempt of every step in the run's current attempt. */
export async function latestStepRuns(db: Knex, run: RunRow): Promise<StepRunRow[]> {
  return db<StepRunRow>('step_runs')
    .distinctOn('step_id')
    .where({ tenant_id: run.tenant_id, run_id: run.id, run_attempt: run.run_attempt })
    .orderBy([{ column: 'step_id' }, { column: 'attempt', order: 'desc' }]);
}

export interface RunFilter {
  workflowId?: string;
  status?: string;
  since?: Date;
  until?: Date;
  limit: number;
  /** Keyset cursor: runs created before this (created_at, id). */
  before?: { createdAt: Date; id: string };
}

export async function listRuns(db: Knex, tenantId: string, f: RunFilter): Promise<RunRow[]> {
  const q = db<RunRow>('workflow_runs').where({ tenant_id: tenantId });
  if (f.workflowId) q.andWhere('workflow_id', f.workflowId);
  if (f.status) q.andWhere('status', f.status);
  if (f.since) q.andWhere('created_at', '>=', f.since);
  if (f.until) q.andWhere('created_at', '<', f.until);
  if (f.before) {
    q.andWhereRaw('(created_at, id) < (?, ?)', [f.before.createdAt, f.before.id]);
  }
  return q
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(f.limit);
}
