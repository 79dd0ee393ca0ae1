import type { Knex } from 'knex';

/**
 * A run's lease epoch: incremented by every claim and carried by the worker that made it, so a
 * checkpoint or an end written under a lease that has since moved on is refused (fencing).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('workflow_runs', (t) => {
    t.integer('lease_epoch').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('workflow_runs', (t) => {
    t.dropColumn('lease_epoch');
  });
}
