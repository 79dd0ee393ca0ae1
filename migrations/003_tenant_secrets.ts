import type { Knex } from 'knex';
import { disableTenantRls, enableTenantRls } from '../engine/db/rls.ts';

/** Per-tenant secrets, encrypted with AES-256-GCM (the key id is inside each envelope). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('tenant_secrets', (t) => {
    t.text('tenant_id').notNullable().references('tenants.id').onDelete('cascade');
    t.text('name').notNullable();
    t.text('ciphertext').notNullable().comment('v1:<key id>:<iv>:<tag>:<ciphertext>');
    t.text('key_id').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['tenant_id', 'name']);
  });
  await knex.raw(
    `alter table tenant_secrets add constraint tenant_secrets_name check (name ~ '^[A-Za-z][A-Za-z0-9_]{0,127}$')`,
  );
  await enableTenantRls(knex, 'tenant_secrets');
}

export async function down(knex: Knex): Promise<void> {
  await disableTenantRls(knex, 'tenant_secrets');
  await knex.schema.dropTable('tenant_secrets');
}
