import type { Knex } from 'knex';

/**
 * Refused inbound webhook deliveries, aggregated per route, reason and minute: a flood of
 * forged requests adds a count, not rows, and never reaches the append-only audit log. A
 * platform table (no tenant column: a refused request's tenant is whatever it claimed), so
 * `atlas_app` is granted nothing on it; rows older than 30 days are pruned.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('webhook_rejections', (t) => {
    t.text('route_id').notNullable().comment('The WebhookRoute manifest id');
    t.text('reason').notNullable().comment('tenant_unknown, signature_mismatch, rate_limited, ...');
    t.timestamp('minute', { useTz: true }).notNullable().comment('The minute the refusals fell in');
    t.smallint('status').notNullable().comment('The HTTP status answered');
    t.bigInteger('count').notNullable();
    t.text('last_source').comment('The client address of the latest refusal in the minute');
    t.primary(['route_id', 'reason', 'minute']);
  });
  await knex.raw('create index webhook_rejections_prune on webhook_rejections (minute)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webhook_rejections');
}
