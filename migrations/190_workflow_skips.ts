import type { Knex } from 'knex';
import { disableTenantRls, enableTenantRls } from '../engine/db/rls.ts';

/**
 * Why a default-on workflow (`enabled: default`) started no run for a tenant that lacks what
 * it needs (a secret, an integration, config): the latest reason per tenant and workflow,
 * with how often it happened.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('workflow_skips', (t) => {
    t.text('tenant_id').notNullable().references('tenants.id').onDelete('cascade');
    t.text('workflow_id').notNullable();
    t.text('reason').notNullable();
    t.text('trigger').notNullable().comment('schedule, webhook or event');
    t.timestamp('skipped_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.bigInteger('count').notNullable().defaultTo(1);
    t.primary(['tenant_id', 'workflow_id']);
  });
  await enableTenantRls(knex, 'workflow_skips');
}

export async function down(knex: Knex): Promise<void> {
  await disableTenantRls(knex, 'workflow_skips');
  await knex.schema.dropTable('workflow_skips');
}
