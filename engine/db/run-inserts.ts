/**
 * New runs, many in one statement: a trigger burst costs one round trip. Runs of a tenant
 * that does not exist or is disabled are not inserted; an idempotency key already used by
 * the tenant and workflow inserts nothing (the caller reads the existing run).
 */
import type { Knex } from 'knex';
import type { RunRow } from './runs.ts';
import type { SqlFunction } from './sql-functions.ts';

export interface RunInsert {
  id: string;
  tenant_id: string;
  workflow_id: string;
  manifest_hash: string;
  input: unknown;
  trigger: unknown;
  idempotency_key: string | null;
  concurrency_key: string | null;
  concurrency_limit: number | null;
  parent_run_id: string | null;
}

export interface RunsInserted {
  /** Each request's tenant status, by position; null when there is no such tenant. */
  tenantStatus: Array<string | null>;
  /** The runs inserted, by id. */
  runs: Map<string, RunRow>;
}

/**
 * Inserts the runs of active tenants, `dispatched = false`: their queue jobs come from the
 * run outbox (`run-outbox.ts`) once the statement's transaction commits.
 *
 * Calls made on one transaction in the same turn of the event loop (the triggers of a shared
 * transaction, started together) are sent as one statement: one plan and one round trip for
 * all of them. Each caller gets its own requests' outcome; a failure fails them all, as the
 * transaction they share would anyway.
 */
export function insertRuns(db: Knex | Knex.Transaction, requests: RunInsert[]): Promise<RunsInserted> {
  if (!db.isTransaction) return insertNow(db, requests);
  const trx = db as Knex.Transaction;
  let batch = gathering.get(trx);
  if (!batch) {
    const fresh: Gathered = {
      requests: [],
      done: Promise.resolve().then(() => {
        gathering.delete(trx);
        return insertNow(trx, fresh.requests);
      }),
    };
    batch = fresh;
    gathering.set(trx, batch);
  }
  const from = batch.requests.length;
  batch.requests.push(...requests);
  return batch.done.then(({ tenantStatus, runs }) => ({
    tenantStatus: tenantStatus.slice(from, from + requests.length),
    runs,
  }));
}

interface Gathered {
  requests: RunInsert[];
  done: Promise<RunsInserted>;
}

/** The inserts gathering on a transaction for the next microtask. */
const gathering = new WeakMap<Knex.Transaction, Gathered>();

async function insertNow(db: Knex | Knex.Transaction, requests: RunInsert[]): Promise<RunsInserted> {
  const { rows } = await db.raw<{
    rows: Array<{ tenants: Array<[number, string | null]>; runs: RawRun[] | null }>;
  }>('select * from atlas_insert_runs(?::json)', [JSON.stringify(requests.map((r, ord) => ({ ord, ...r })))]);
  const statuses = new Map(rows[0]!.tenants);
  return {
    tenantStatus: requests.map((_, i) => statuses.get(i) ?? null),
    runs: new Map((rows[0]!.runs ?? []).map((r) => [r.id, fromJson(r)])),
  };
}

type RawRun = Omit<
  RunRow,
  'created_at' | 'started_at' | 'finished_at' | 'updated_at' | 'lease_expires_at'
> & {
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
  lease_expires_at: string | null;
};

/** `row_to_json` gives timestamps as text; the rest of the engine works with Dates. */
function fromJson(raw: RawRun): RunRow {
  const date = (v: string | null) => (v === null ? null : new Date(v));
  return {
    ...raw,
    created_at: new Date(raw.created_at),
    updated_at: new Date(raw.updated_at),
    started_at: date(raw.started_at),
    finished_at: date(raw.finished_at),
    lease_expires_at: date(raw.lease_expires_at),
  };
}

/** The statement as a function (see sql-functions.ts), created by migration 340. */
export const INSERT_RUNS_FUNCTION: SqlFunction = {
  name: 'atlas_insert_runs',
  params: 'requests json',
  returns: 'table (tenants json, runs json)',
  body: `
with req as (
  select * from json_to_recordset(requests) as r(ord int, id uuid, tenant_id text, workflow_id text,
         manifest_hash text, input jsonb, trigger jsonb, idempotency_key text, concurrency_key text,
         concurrency_limit int, parent_run_id uuid)
), ins as (
  insert into workflow_runs (id, tenant_id, workflow_id, manifest_hash, status, input, trigger, idempotency_key,
                             concurrency_key, concurrency_limit, parent_run_id, dispatched)
  select req.id, req.tenant_id, req.workflow_id, req.manifest_hash, 'queued', req.input, req.trigger,
         req.idempotency_key, req.concurrency_key, req.concurrency_limit, req.parent_run_id, false
    from req join tenants t on t.id = req.tenant_id and t.status = 'active'
  on conflict (tenant_id, workflow_id, idempotency_key) where idempotency_key is not null do nothing
  returning *
)
select (select json_agg(json_build_array(r.ord, t.status)) from req r left join tenants t on t.id = r.tenant_id) as tenants,
       (select json_agg(row_to_json(ins)) from ins) as runs`,
};
