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
import { addJob } from '../queue/add-job.ts';
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

export async function createRun(
  trx: Knex.Transaction,
  req: NewRun,
): Promise<{ run: RunRow; created: boolean }> {
  const { entry } = req;
  const workflow = entry.manifest;
  const id = randomUUID();
  const row = {
    id,
    tenant_id: req.tenantId,
    workflow_id: workflow.id,
    manifest_hash: entry.hash,
    status: 'queued',
    input: JSON.stringify(req.input ?? {}),
    trigger: JSON.stringify(req.trigger),
    idempotency_key: req.idempotencyKey ?? null,
    concurrency_key: concurrencyKey(workflow, req),
    concurrency_limit: workflow.concurrency?.limit ?? null,
    parent_run_id: req.parentRunId ?? null,
  };
  const inserted = (await trx('workflow_runs')
    .insert(row)
    .onConflict(trx.raw('(tenant_id, workflow_id, idempotency_key) where idempotency_key is not null'))
    .ignore()
    .returning('*')) as RunRow[];
  if (inserted.length === 0) {
    const existing = await findRunByKey(trx, req.tenantId, workflow.id, req.idempotencyKey!);
    if (!existing) throw new Error('idempotency conflict without an existing run');
    return { run: existing, created: false };
  }
  await addJob(trx, { task: RUN_TASK, payload: { runId: id, tenantId: req.tenantId }, jobKey: `run:${id}` });
  return { run: inserted[0]!, created: true };
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
