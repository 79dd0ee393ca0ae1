/**
 * The run ledger's checkpoints. Every checkpoint (attempts finished, attempts started, and
 * a run's end when nothing else hangs on it) must be durable before the run moves on, and a
 * durable commit costs a disk flush: the checkpoints of all runs in flight in this process
 * are group-committed, one statement for everything queued while the last one was written.
 */
import type { Knex } from 'knex';
import { GroupCommit } from './group-commit.ts';
import type { RunStatus } from './runs.ts';
import type { StepStatus } from './step-runs.ts';

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
  /** How long an attempt written finished took (a pure step's); 0 when absent. */
  durationMs?: number;
}

export interface CheckpointItem {
  tenantId: string;
  runId: string;
  runAttempt: number;
  /** The lease epoch of the claim this worker holds: the write is refused once it moved on. */
  leaseEpoch: number;
  worker: string;
  finished: FinishedAttempt[];
  started: NewAttempt[];
  /** Ends the run in the same commit (only when no other work hangs on its end). */
  end?: { status: 'succeeded' | 'failed'; error: unknown; output?: unknown };
  /**
   * Claims the run in the same commit, for `worker`, with a lease of this length: a run taken
   * without a claim (`ClaimedRun.claimOnWrite`). Refused (fenced) unless it is still queued,
   * its lease free and its epoch `leaseEpoch`; written, its epoch is `leaseEpoch + 1`.
   */
  claim?: { leaseMs: number };
}

export interface CheckpointOutcome {
  /** The run's status before this write (a cancel shows here). */
  runStatus: RunStatus | undefined;
  /** Ledger ids of the new attempts, by step id. */
  ids: Map<string, number>;
  /** True when `end` was requested and the run was still running, so it ended now. */
  ended: boolean;
  /** True when another claim took the run since this worker's: nothing was written. */
  fenced: boolean;
}

export class LedgerWriter {
  readonly #group: GroupCommit<CheckpointItem, CheckpointOutcome>;

  constructor(db: Knex) {
    this.#group = new GroupCommit((items) => writeCheckpoints(db, items));
  }

  write(item: CheckpointItem): Promise<CheckpointOutcome> {
    return this.#group.submit(item);
  }
}

const json = (value: unknown) => (value === undefined ? null : value);

/** The columns an attempt's outcome fills, whether it is written at its start or its end. */
const outcomeColumns = (o: { status: string; output?: unknown; error?: unknown; retryAt?: Date }) => ({
  status: o.status,
  output: json(o.output),
  error: json(o.error),
  retry_at: o.retryAt?.toISOString() ?? null,
});

/** The statement writing the checkpoints of several runs, and its bindings. */
export function checkpointQuery(items: CheckpointItem[]): { sql: string; bindings: unknown[] } {
  const finished = items.flatMap((it) =>
    it.finished.map((f) => ({
      id: f.id,
      tenant_id: it.tenantId,
      run_id: it.runId,
      ...outcomeColumns(f),
      duration_ms: f.durationMs,
    })),
  );
  const started = items.flatMap((it) =>
    it.started.map((s) => ({
      tenant_id: it.tenantId,
      run_id: it.runId,
      run_attempt: it.runAttempt,
      worker: it.worker,
      step_id: s.stepId,
      uses: s.uses,
      attempt: s.attempt,
      max_attempts: s.maxAttempts,
      ...outcomeColumns(s),
      input: json(s.input),
      skip_reason: s.skipReason ?? null,
      finished: s.status !== 'running' && s.status !== 'waiting',
      duration_ms: s.durationMs ?? 0,
    })),
  );
  const ends = items
    .filter((it) => it.end)
    .map((it) => ({
      id: it.runId,
      tenant_id: it.tenantId,
      status: it.end!.status,
      error: json(it.end!.error),
      output: json(it.end!.output),
    }));
  const runIds = items.map((it) => it.runId);
  const bindings = [
    runIds,
    items.map((it) => it.tenantId),
    items.map((it) => it.leaseEpoch),
    items.map((it) => (it.claim ? it.claim.leaseMs / 1000 : null)),
    items.map((it) => it.worker),
    runIds,
    ends.map((e) => e.id),
    JSON.stringify(finished),
    JSON.stringify(started),
    JSON.stringify(ends),
    runIds,
  ];
  return { sql: WRITE_SQL, bindings };
}

/** One statement writing the checkpoints of several runs (what a group commit sends). */
export async function writeCheckpoints(db: Knex, items: CheckpointItem[]): Promise<CheckpointOutcome[]> {
  const { sql, bindings } = checkpointQuery(items);
  const { rows } = await db.raw<{
    rows: Array<{
      statuses: Array<[string, RunStatus]> | null;
      started: Array<[string, string, number]> | null;
      ended: string[] | null;
      live: string[] | null;
    }>;
  }>(sql, bindings as Knex.RawBinding[]);
  const row = rows[0]!;
  const statuses = new Map(row.statuses ?? []);
  const ended = new Set(row.ended ?? []);
  const live = new Set(row.live ?? []);
  const ids = new Map<string, Map<string, number>>();
  for (const [runId, stepId, id] of row.started ?? []) {
    if (!ids.has(runId)) ids.set(runId, new Map());
    ids.get(runId)!.set(stepId, id);
  }
  return items.map((it) => ({
    runStatus: statuses.get(it.runId),
    ids: ids.get(it.runId) ?? new Map(),
    ended: ended.has(it.runId),
    fenced: !live.has(it.runId),
  }));
}

// Sub-statements of one statement see one snapshot: `statuses` is each run's status before
// this write, which is what a caller needs to notice a cancellation. `live` is fencing: only
// runs whose lease epoch is still the writer's are written, and they stay locked (in id order)
// until the commit, so a claim cannot slip in between the check and the write.
// Runs are reached through the primary key (`id = any(array)`): joined with a JSON record
// set, whose size the planner cannot know, the run table was scanned whole, or walked by
// tenant, at every checkpoint. A run claimed by its checkpoint (`claim_secs`) must also still
// be queued with its lease free; `claimed` takes it, or `ended` when the write also ends it.
const WRITE_SQL = `
with live as (
  select r.id, k.claim_secs, k.owner from workflow_runs r
    join unnest(?::uuid[], ?::text[], ?::int[], ?::float8[], ?::text[]) as k(id, tenant_id, epoch, claim_secs, owner)
      on r.id = k.id and r.tenant_id = k.tenant_id and r.lease_epoch = k.epoch
   where r.id = any (?::uuid[])
     and (k.claim_secs is null or (r.status = 'queued' and (r.lease_owner is null or r.lease_expires_at < now())))
   order by r.id
     for no key update of r
), claimed as (
  update workflow_runs r
     set status = 'running', started_at = coalesce(r.started_at, now()), lease_owner = l.owner,
         lease_epoch = r.lease_epoch + 1, lease_expires_at = now() + make_interval(secs => l.claim_secs),
         updated_at = now()
    from live l
   where r.id = any (array(select id from live where claim_secs is not null and not id = any (?::uuid[])))
     and r.id = l.id
  returning r.id
), done as (
  update step_runs s
     set status = f.status, output = f.output, error = f.error, retry_at = f.retry_at,
         duration_ms = f.duration_ms, finished_at = now()
    from json_to_recordset(?::json) as f(id bigint, tenant_id text, run_id uuid, status text, output jsonb,
                                         error jsonb, retry_at timestamptz, duration_ms int)
   where s.id = f.id and s.tenant_id = f.tenant_id and s.status in ('running', 'waiting')
     and f.run_id in (select id from live)
  returning s.id
), started as (
  insert into step_runs (tenant_id, run_id, run_attempt, worker, step_id, uses, attempt, max_attempts,
                         status, input, output, error, skip_reason, retry_at, finished_at, duration_ms)
  select n.tenant_id, n.run_id, n.run_attempt, n.worker, n.step_id, n.uses, n.attempt, n.max_attempts,
         n.status, n.input, n.output, n.error, n.skip_reason, n.retry_at,
         case when n.finished then now() end, case when n.finished then n.duration_ms end
    from json_to_recordset(?::json) as n(tenant_id text, run_id uuid, run_attempt int, worker text,
         step_id text, uses text, attempt int, max_attempts int, status text, input jsonb, output jsonb,
         error jsonb, skip_reason text, retry_at timestamptz, finished boolean, duration_ms int)
   where n.run_id in (select id from live)
  returning run_id, step_id, id
), ended as (
  update workflow_runs r
     set status = e.status, error = e.error, output = e.output, finished_at = now(), updated_at = now(),
         started_at = coalesce(r.started_at, now()), lease_owner = null, lease_expires_at = null,
         lease_epoch = r.lease_epoch + case when l.claim_secs is null then 0 else 1 end
    from json_to_recordset(?::json) as e(id uuid, tenant_id text, status text, error jsonb, output jsonb), live l
   where r.id = any (array(select id from live)) and r.id = e.id and r.tenant_id = e.tenant_id and l.id = r.id
     and (r.status = 'running' or l.claim_secs is not null)
  returning r.id
)
select (select json_agg(json_build_array(id, status)) from workflow_runs where id = any(?::uuid[])) as statuses,
       (select json_agg(json_build_array(run_id, step_id, id)) from started) as started,
       (select json_agg(id) from ended) as ended,
       (select json_agg(id) from live) as live,
       (select count(*) from done) as done,
       (select count(*) from claimed) as claimed`;
