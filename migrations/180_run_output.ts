import type { Knex } from 'knex';

/** A run's `output`: the workflow's `output:` rendered once every step is done. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('workflow_runs', (t) => {
    t.jsonb('output');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('workflow_runs', (t) => {
    t.dropColumn('output');
  });
}
