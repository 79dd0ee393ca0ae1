import type { Knex } from 'knex';

/** Tenants: every tenant-scoped row references one. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('tenants', (t) => {
    t.text('id').primary().comment('A stable slug, e.g. "demo"');
    t.text('name').notNullable();
    t.text('status').notNullable().defaultTo('active');
    t.jsonb('config').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    `alter table tenants add constraint tenants_id_format check (id ~ '^[a-z0-9][a-z0-9-]{0,62}$')`,
  );
  await knex.raw(
    `alter table tenants add constraint tenants_status check (status in ('active', 'disabled'))`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('tenants');
}
