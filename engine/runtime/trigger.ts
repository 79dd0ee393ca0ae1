/**
 * Starting runs. A run row and its first queue job are written in the caller's transaction:
 * an accepted trigger is never lost and never half-done. An idempotency key (unique per
 * tenant and workflow) returns the existing run instead of a second one.
 */
import { randomUUID } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import type { Knex } from 'knex';
import { describeErrors } from '../connector-sdk/index.ts';
import { GroupCommit } from '../db/group-commit.ts';
import { saveManifestVersions } from '../db/manifest-versions.ts';
import { insertRuns } from '../db/run-inserts.ts';
import { findRunByKey, type RunRow } from '../db/runs.ts';
import { renderSync } from '../expr/index.ts';
import { makeAjv } from '../json/ajv.ts';
import type { Catalogue, CatalogueEntry } from '../manifest/catalogue.ts';
import type { Workflow } from '../manifest/types.gen.ts';
import { RuntimeError } from './errors.ts';

export interface NewRun {
  tenantId: string;
  entry: CatalogueEntry<Workflow>;
  input: unknown;
  trigger: Record<string, unknown>;
  idempotencyKey?: string | undefined;
  parentRunId?: string | undefined;
}

/** Validators of workflows' input schemas, compiled once per manifest version. */
export class InputSchemas {
  // Not strict: a workflow's input schema was checked when its manifest loaded.
  readonly #ajv = makeAjv({ strict: false });
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
  const [outcome] = await createRunsBatch(db, [req]);
  if (!outcome || 'error' in outcome) throw outcome?.error;
  if (outcome.created && req.onCommitted && 'executionPromise' in db) {
    db.executionPromise.then(req.onCommitted, () => {});
  }
  return outcome;
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
 * one (one commit per batch), and `onCommitted` then has the run outbox hand them to the
 * queue in its fair order. Each caller gets its own outcome, errors included.
 */
export function makeTriggerBatcher(db: Knex, onCommitted: () => void): GroupCommit<NewRun, Outcome> {
  return new GroupCommit(async (items) => {
    const outcomes = await createRunsBatch(db, items);
    onCommitted();
    return outcomes;
  });
}

export type Outcome = { run: RunRow; created: boolean } | { error: unknown };

/**
 * Many runs in one statement; they go through the run outbox once the statement's
 * transaction commits (`dispatched = false`).
 */
export async function createRunsBatch(db: Knex | Knex.Transaction, items: NewRun[]): Promise<Outcome[]> {
  const requests = items.map((req) => ({
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
  const { tenantStatus, runs } = await insertRuns(db, requests);
  return Promise.all(
    items.map(async (req, i): Promise<Outcome> => {
      const status = tenantStatus[i] ?? null;
      if (status === null)
        return { error: new RuntimeError('not_found', `There is no tenant ${req.tenantId}.`) };
      if (status !== 'active') {
        return { error: new RuntimeError('tenant_disabled', `Tenant ${req.tenantId} is disabled.`) };
      }
      const run = runs.get(requests[i]!.id);
      if (run) return { run, created: true };
      const existing = await findRunByKey(db, req.tenantId, req.entry.manifest.id, req.idempotencyKey!);
      return existing
        ? { run: existing, created: false }
        : { error: new Error('idempotency conflict without a run') };
    }),
  );
}
