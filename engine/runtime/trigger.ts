/**
 * Starting runs. A run row and its first queue job are written in the caller's transaction:
 * an accepted trigger is never lost and never half-done. An idempotency key (unique per
 * tenant and workflow) returns the existing run instead of a second one.
 */
import { randomUUID } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Knex } from 'knex';
import { describeErrors } from '../connector-sdk/index.ts';
import { GroupCommit } from '../db/group-commit.ts';
import { findRunByKey, type RunRow, saveManifestVersions } from '../db/runs.ts';
import { renderSync } from '../expr/index.ts';
import type { Catalogue, CatalogueEntry } from '../manifest/catalogue.ts';
import type { Workflow } from '../manifest/types.gen.ts';
import { RuntimeError } from './errors.ts';

export const RUN_TASK = 'atlas.run';

export interface NewRun {
  tenantId: string;
  entry: CatalogueEntry<Workflow>;
  input: unknown;
  trigger: Record<string, unknown>;
  idempotencyKey?: string | undefined;
  parentRunId?: string | undefined;
}

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => Ajv2020;

/** Validators of workflows' input schemas, compiled once per manifest version. */
export class InputSchemas {
  readonly #ajv = addFormats(new Ajv2020({ allErrors: true, strict: false, verbose: true }));
  readonly #cache = new Map<string, ValidateFunction>();

  check(entry: CatalogueEntry<Workflow>, input: unknown): void {
    let validate = this.#cache.get(entry.hash);
    if (!validate) {
      validate = this.#ajv.compile(entry.manifest.input ?? { type: 'object' });
      this.#cache.set(entry.hash, validate);
    }
    if (!validate(input)) {
      const issues = describeErrors(validate.errors ?? [], 'the input');
      throw new RuntimeError('invalid_input', `The input of ${entry.manifest.id} is invalid.`, issues);
    }
  }

  /** A tenant's config for the workflow, against the workflow's `config` schema (when it has one). */
  checkConfig(entry: CatalogueEntry<Workflow>, config: unknown): void {
    if (entry.manifest.config === undefined) return;
    const key = `config:${entry.hash}`;
    let validate = this.#cache.get(key);
    if (!validate) {
      validate = this.#ajv.compile(entry.manifest.config);
      this.#cache.set(key, validate);
    }
    if (!validate(config)) {
      const issues = describeErrors(validate.errors ?? [], 'config');
      throw new RuntimeError('invalid_input', `The config of ${entry.manifest.id} is invalid.`, issues);
    }
  }
}

/**
 * One run, in the caller's transaction: a batch of one (see createRunsBatch). Its queue job
 * is added by the Dispatcher once the row is committed (the outbox: see dispatch.ts);
 * `onCommitted` tells it when.
 */
export async function createRun(
  db: Knex | Knex.Transaction,
  req: NewRun & { onCommitted?: () => void },
): Promise<{ run: RunRow; created: boolean }> {
  const [outcome] = await createRunsBatch(db, [req], false);
  if (!outcome || 'error' in outcome) throw outcome?.error;
  if (outcome.created && req.onCommitted && 'executionPromise' in db) {
    db.executionPromise.then(req.onCommitted, () => {});
  }
  return outcome;
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

/** `row_to_json` gives timestamps as text; the rest of the runtime works with Dates. */
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

/** The concurrency group of a run, rendered from its key template (the tenant by default). */
function concurrencyKey(workflow: Workflow, req: NewRun): string | null {
  if (!workflow.concurrency) return null;
  const template = workflow.concurrency.key ?? '{{ tenant.id }}';
  try {
    const key = renderSync(template, {
      input: req.input,
      trigger: req.trigger,
      tenant: { id: req.tenantId },
    });
    return typeof key === 'string' ? key : JSON.stringify(key);
  } catch (err) {
    throw new RuntimeError(
      'invalid_input',
      `The concurrency key of ${workflow.id} cannot be rendered: ${(err as Error).message}`,
    );
  }
}

/**
 * Stores every workflow version of the catalogue (once per process start) before any run
 * can pin one: runs reference `manifest_versions` by hash.
 */
export async function saveCatalogueVersions(db: Knex, catalogue: Catalogue): Promise<void> {
  await saveManifestVersions(
    db,
    catalogue
      .workflows()
      .map((e) => ({ hash: e.hash, kind: 'Workflow', id: e.manifest.id, content: e.manifest })),
  );
}

/**
 * Runs started outside any caller transaction (the CLI, internal callers, benchmarks) are
 * group-committed: every trigger queued while the last batch was written goes in the next
 * one, with its queue jobs added in the same statement (one commit and one NOTIFY per
 * batch). Each caller gets its own outcome, errors included.
 */
export function makeTriggerBatcher(db: Knex): GroupCommit<NewRun, Outcome> {
  return new GroupCommit((items) => createRunsBatch(db, items));
}

export type Outcome = { run: RunRow; created: boolean } | { error: unknown };

/**
 * Many runs in one statement. `enqueue`: their queue jobs are added in the same statement
 * (callers outside a transaction); otherwise they go through the run outbox once the caller's
 * transaction commits (`dispatched = false`).
 */
export async function createRunsBatch(
  db: Knex | Knex.Transaction,
  items: NewRun[],
  enqueue = true,
): Promise<Outcome[]> {
  const requests = items.map((req, ord) => ({
    ord,
    id: randomUUID(),
    tenant_id: req.tenantId,
    workflow_id: req.entry.manifest.id,
    manifest_hash: req.entry.hash,
    input: req.input ?? {},
    trigger: req.trigger,
    idempotency_key: req.idempotencyKey ?? null,
    concurrency_key: concurrencyKey(req.entry.manifest, req),
    concurrency_limit: req.entry.manifest.concurrency?.limit ?? null,
    parent_run_id: req.parentRunId ?? null,
  }));
  const { rows } = await db.raw<{
    rows: Array<{ tenants: Array<[number, string | null]>; runs: RawRun[] | null }>;
  }>(enqueue ? BATCH_SQL : BATCH_SQL_OUTBOX, [JSON.stringify(requests), ...(enqueue ? [RUN_TASK] : [])]);
  const statuses = new Map(rows[0]!.tenants);
  const inserted = new Map((rows[0]!.runs ?? []).map((r) => [r.id, fromJson(r)]));
  return Promise.all(
    items.map(async (req, i): Promise<Outcome> => {
      const status = statuses.get(i) ?? null;
      if (status === null)
        return { error: new RuntimeError('not_found', `There is no tenant ${req.tenantId}.`) };
      if (status !== 'active') {
        return { error: new RuntimeError('tenant_disabled', `Tenant ${req.tenantId} is disabled.`) };
      }
      const run = inserted.get(requests[i]!.id);
      if (run) return { run, created: true };
      const existing = await findRunByKey(db, req.tenantId, req.entry.manifest.id, req.idempotencyKey!);
      return existing
        ? { run: existing, created: false }
        : { error: new Error('idempotency conflict without a run') };
    }),
  );
}

/**
 * SQL adding the queue job of every run in `relation` (columns `id`, `tenant_id`) with one
 * `add_jobs` call, so one NOTIFY; the job key is the run's, so a run never has two jobs
 * waiting. Binds one parameter: the task name.
 */
export function addRunJobs(relation: string): string {
  return `select count(*) as n from graphile_worker.add_jobs(array(
    select row(?, json_build_object('runId', id, 'tenantId', tenant_id), null, null, 25,
               'run:' || id::text, null, null)::graphile_worker.job_spec
      from ${relation}))
   where exists (select 1 from ${relation})`;
}

/** Inserts a batch of runs; with `enqueue`, also their queue jobs (one `add_jobs`). */
function batchSql(enqueue: boolean): string {
  return `
with req as (
  select * from json_to_recordset(?::json) as r(ord int, id uuid, tenant_id text, workflow_id text,
         manifest_hash text, input jsonb, trigger jsonb, idempotency_key text, concurrency_key text,
         concurrency_limit int, parent_run_id uuid)
), ins as (
  insert into workflow_runs (id, tenant_id, workflow_id, manifest_hash, status, input, trigger, idempotency_key,
                             concurrency_key, concurrency_limit, parent_run_id, dispatched)
  select req.id, req.tenant_id, req.workflow_id, req.manifest_hash, 'queued', req.input, req.trigger,
         req.idempotency_key, req.concurrency_key, req.concurrency_limit, req.parent_run_id, ${enqueue}
    from req join tenants t on t.id = req.tenant_id and t.status = 'active'
  on conflict (tenant_id, workflow_id, idempotency_key) where idempotency_key is not null do nothing
  returning *
)${enqueue ? `, jobs as (\n  ${addRunJobs('ins')}\n)` : ''}
select (select json_agg(json_build_array(r.ord, t.status)) from req r left join tenants t on t.id = r.tenant_id) as tenants,
       (select json_agg(row_to_json(ins)) from ins) as runs${
         // A CTE that modifies nothing runs only when referenced: count the jobs.
         enqueue ? ',\n       (select n from jobs) as jobs' : ''
       }`;
}

const BATCH_SQL = batchSql(true);
const BATCH_SQL_OUTBOX = batchSql(false);
