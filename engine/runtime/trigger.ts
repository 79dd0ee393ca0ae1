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
  readonly #ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
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
}

/**
 * One statement (so one round trip, and one commit when the caller has no transaction):
 * the tenant must exist and be active; the run row is inserted unless its idempotency key
 * is taken. Its queue job is added by the Dispatcher once the row is committed (the outbox:
 * see dispatch.ts); `onCommitted` tells it when, for callers inside a transaction.
 */
export async function createRun(
  db: Knex | Knex.Transaction,
  req: NewRun & { onCommitted?: () => void },
): Promise<{ run: RunRow; created: boolean }> {
  const { entry } = req;
  const workflow = entry.manifest;
  const { rows } = await db.raw<{ rows: Array<{ tenant_status: string | null; run: RawRun | null }> }>(
    CREATE_SQL,
    [
      req.tenantId,
      randomUUID(),
      req.tenantId,
      workflow.id,
      entry.hash,
      JSON.stringify(req.input ?? {}),
      JSON.stringify(req.trigger),
      req.idempotencyKey ?? null,
      concurrencyKey(workflow, req),
      workflow.concurrency?.limit ?? null,
      req.parentRunId ?? null,
    ],
  );
  const { tenant_status: status, run } = rows[0]!;
  if (status === null) throw new RuntimeError('not_found', `There is no tenant ${req.tenantId}.`);
  if (status !== 'active') throw new RuntimeError('tenant_disabled', `Tenant ${req.tenantId} is disabled.`);
  if (run) {
    if (req.onCommitted && 'executionPromise' in db) db.executionPromise.then(req.onCommitted, () => {});
    return { run: fromJson(run), created: true };
  }
  const existing = await findRunByKey(db, req.tenantId, workflow.id, req.idempotencyKey!);
  if (!existing) throw new Error('idempotency conflict without an existing run');
  return { run: existing, created: false };
}

const CREATE_SQL = `
with tenant as (select status from tenants where id = ?),
ins as (
  insert into workflow_runs (id, tenant_id, workflow_id, manifest_hash, status, input, trigger, idempotency_key,
                             concurrency_key, concurrency_limit, parent_run_id, dispatched)
  select ?::uuid, ?, ?, ?, 'queued', ?::jsonb, ?::jsonb, ?, ?, ?::int, ?::uuid, false
   where exists (select 1 from tenant where status = 'active')
  on conflict (tenant_id, workflow_id, idempotency_key) where idempotency_key is not null do nothing
  returning *
)
select (select status from tenant) as tenant_status, (select row_to_json(ins) from ins) as run`;

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
