import type { Knex } from 'knex';
import { disableTenantRls, enableTenantRls } from '../engine/db/rls.ts';

/**
 * Files: one row per stored object (`tenants/<tenant>/<id>` in the storage driver), written
 * (status `pending`, counted against the quota) before the bytes are stored, and `ready`
 * once they are; a deleted file keeps its row with `deleted_at` and stops
 * counting against the quota at once. `tenants.settings` holds admin-only settings, among
 * them per-tenant file limits (`files: { maxFiles, maxStorageMb, maxFileMb }`).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table tenants add column if not exists settings jsonb not null default '{}'`);
  await knex.schema.createTable('files', (t) => {
    t.uuid('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id').onDelete('cascade');
    t.text('name').notNullable();
    t.text('content_type').notNullable();
    t.bigInteger('size').notNullable();
    t.text('sha256').notNullable().comment('hex digest of the bytes');
    t.text('storage_key').notNullable().comment('tenants/<tenant>/<id>');
    t.text('status')
      .notNullable()
      .defaultTo('pending')
      .comment('pending while the bytes are written; ready after');
    t.text('created_by').notNullable().comment('Token subject, cli:<user> or run:<id>');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('deleted_at', { useTz: true });
  });
  await knex.raw(`alter table files add constraint files_size check (size >= 0)`);
  await knex.raw(`alter table files add constraint files_status check (status in ('pending', 'ready'))`);
  await knex.raw(`alter table files add constraint files_name check (octet_length(name) between 1 and 255)`);
  await knex.raw(
    'create index files_live on files (tenant_id, created_at desc, id desc) where deleted_at is null',
  );
  await knex.raw(
    'create index files_live_name on files (tenant_id, name text_pattern_ops) where deleted_at is null',
  );
  await enableTenantRls(knex, 'files');
}

export async function down(knex: Knex): Promise<void> {
  await disableTenantRls(knex, 'files');
  await knex.schema.dropTable('files');
}
