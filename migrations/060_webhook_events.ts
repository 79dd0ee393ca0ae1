import type { Knex } from 'knex';
import { disableTenantRls, enableTenantRls } from '../engine/db/rls.ts';

/**
 * Inbound webhook events: one row per verified delivery, unique per (tenant, route, event id).
 * The unique index is the de-duplication: providers redeliver for days (Stripe up to three),
 * and a concurrent duplicate waits on the index until the first delivery's transaction ends.
 * Rows older than their route's `dedupWindow` are pruned.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('webhook_events', (t) => {
    t.bigIncrements('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id').onDelete('cascade');
    t.text('route_id').notNullable().comment('The WebhookRoute manifest id');
    t.text('event_id').notNullable().comment("The provider's event id (evt_..., update_id, webhook-id)");
    t.text('event_type').notNullable();
    t.jsonb('payload').notNullable().comment('The verified body, kept for replay');
    t.specificType('run_ids', 'uuid[]').notNullable().defaultTo('{}');
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    'create unique index webhook_events_dedup on webhook_events (tenant_id, route_id, event_id)',
  );
  await knex.raw('create index webhook_events_prune on webhook_events (route_id, received_at)');
  await enableTenantRls(knex, 'webhook_events');
}

export async function down(knex: Knex): Promise<void> {
  await disableTenantRls(knex, 'webhook_events');
  await knex.schema.dropTable('webhook_events');
}
