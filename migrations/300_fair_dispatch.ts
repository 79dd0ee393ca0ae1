import type { Knex } from 'knex';

/**
 * The dispatcher's indexes. It walks the tenants with undispatched runs (a skip scan of
 * `workflow_runs_outbox`), takes each tenant's oldest runs up to the room under its limit of
 * runs in flight, counted through `workflow_runs_in_flight`. The former single-column outbox
 * index (by `created_at`) served the old first-come order only.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    'create index workflow_runs_outbox on workflow_runs (tenant_id, created_at) where not dispatched',
  );
  // A run queued in a concurrency group may be waiting for its group's slot, which its
  // group limits: only running ones of those count (the predicate of `db/run-outbox.ts`).
  await knex.raw(
    `create index workflow_runs_in_flight on workflow_runs (tenant_id)
      where dispatched and (status = 'running' or (status = 'queued' and concurrency_key is null))`,
  );
  await knex.raw('drop index workflow_runs_undispatched');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(
    'create index workflow_runs_undispatched on workflow_runs (created_at) where not dispatched',
  );
  await knex.raw('drop index workflow_runs_in_flight');
  await knex.raw('drop index workflow_runs_outbox');
}
