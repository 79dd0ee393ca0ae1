import type { Knex } from 'knex';

/**
 * The run outbox: a trigger commits the run row alone, and a dispatcher hands new runs to
 * the queue in batches. graphile-worker's add_job sends a NOTIFY, and PostgreSQL commits
 * transactions that NOTIFY one at a time; batching makes that one NOTIFY per batch.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('workflow_runs', (t) => {
    t.boolean('dispatched').notNullable().defaultTo(true);
  });
  await knex.raw(
    'create index workflow_runs_undispatched on workflow_runs (created_at) where not dispatched',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index workflow_runs_undispatched');
  await knex.schema.alterTable('workflow_runs', (t) => {
    t.dropColumn('dispatched');
  });
}
