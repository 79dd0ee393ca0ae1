import type { Knex } from 'knex';
import { APP_ROLE, disableTenantRls, enableTenantRls, ensureAppRole } from '../engine/db/rls.ts';

/**
 * Tenant access and the audit trail: the `atlas_app` role that tenant work runs as, row-level
 * security on `tenants` (a tenant sees its own row), and the append-only `audit_log`.
 */
export async function up(knex: Knex): Promise<void> {
  await ensureAppRole(knex);
  await enableTenantRls(knex, 'tenants', { column: 'id', privileges: ['select'] });

  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id').primary();
    t.text('tenant_id').references('id').inTable('tenants').comment('Null for platform events');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('actor').notNullable().comment('Token subject, or the engine part that acted');
    t.text('action').notNullable().comment('e.g. runs.trigger, tenants.create, connector.call');
    t.text('entity_type').notNullable();
    t.text('entity_id');
    t.text('request_id');
    t.integer('status').comment('HTTP status of the request or the provider call');
    t.text('result').notNullable().comment('ok or error');
    t.jsonb('summary').notNullable().defaultTo('{}').comment('Redacted input');
    t.text('connector');
    t.text('method');
    t.text('host');
    t.text('path');
    t.integer('duration_ms');
  });
  await knex.raw(`alter table audit_log add constraint audit_log_result check (result in ('ok', 'error'))`);
  await knex.raw('create index audit_log_tenant_id_idx on audit_log (tenant_id, id desc)');
  await knex.raw('create index audit_log_entity_idx on audit_log (tenant_id, entity_type, entity_id)');
  await enableTenantRls(knex, 'audit_log', { privileges: ['select', 'insert'] });
  await knex.raw(`revoke update, delete, truncate on audit_log from ${APP_ROLE}`);
  // Append-only for every role, the owner included: rewriting history needs a deliberate
  // DDL step (dropping this trigger), never an ordinary statement.
  await knex.raw(`
    create function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only' using errcode = 'insufficient_privilege';
    end $$;
  `);
  await knex.raw(`
    create trigger audit_log_no_update_delete before update or delete on audit_log
      for each row execute function audit_log_append_only();
    create trigger audit_log_no_truncate before truncate on audit_log
      for each statement execute function audit_log_append_only();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_log');
  await knex.raw('drop function audit_log_append_only()');
  await disableTenantRls(knex, 'tenants');
}
