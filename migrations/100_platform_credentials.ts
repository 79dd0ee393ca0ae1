import type { Knex } from 'knex';
import { disableTenantRls, enableTenantRls } from '../engine/db/rls.ts';

/**
 * Platform credentials: the operator's settings of each tenant (mailboxes it may use through
 * the platform's Graph app, its daily token budget on a platform LLM key, ...), written by
 * admins only and kept apart from `config`, which tenants' workflow config overrides; and the
 * tokens each tenant spent on platform LLM keys per UTC day.
 */
export async function up(knex: Knex): Promise<void> {
  // Other parts keep their own keys here too: the column may already exist.
  await knex.raw(`alter table tenants add column if not exists settings jsonb not null default '{}'`);
  await knex.raw(
    `comment on column tenants.settings is 'Admin-only settings (PUT /v1/tenants/:id/settings); never tenant-writable'`,
  );
  await knex.schema.createTable('platform_token_usage', (t) => {
    t.text('tenant_id').notNullable().references('tenants.id').onDelete('cascade');
    t.date('day').notNullable().comment('UTC day');
    t.bigInteger('tokens').notNullable().defaultTo(0).comment('Sum of usage.total_tokens');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['tenant_id', 'day']);
  });
  await enableTenantRls(knex, 'platform_token_usage', { privileges: ['select'] });
}

export async function down(knex: Knex): Promise<void> {
  await disableTenantRls(knex, 'platform_token_usage');
  await knex.schema.dropTable('platform_token_usage');
  // `settings` stays: other parts' migrations may rely on it.
}
