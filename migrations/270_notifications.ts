import type { Knex } from 'knex';
import { disableTenantRls, enableTenantRls } from '../engine/db/rls.ts';

/**
 * Notifications (engine/notify): each tenant's channels and the events it wants, an outbox of
 * events waiting to be sent (recorded in the transaction of what caused them), and the last
 * time each kind of event about one subject (a workflow, a job type, a provider, a quota) was
 * sent, which throttles the next one and folds what arrives meanwhile into a digest.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`create table notification_settings (
    tenant_id text primary key references tenants(id) on delete cascade,
    channels jsonb not null default '{}',
    events text[] not null,
    updated_by text,
    updated_at timestamptz not null default now()
  )`);
  await knex.raw(`create table notification_events (
    id bigint generated always as identity primary key,
    tenant_id text not null references tenants(id) on delete cascade,
    kind text not null,
    subject text not null,
    detail jsonb not null,
    created_at timestamptz not null default now(),
    due_at timestamptz not null default now()
  )`);
  await knex.raw('create index notification_events_due on notification_events (due_at)');
  await knex.raw(
    'create index notification_events_subject on notification_events (tenant_id, kind, subject, id)',
  );
  await knex.raw(`create table notification_windows (
    tenant_id text not null references tenants(id) on delete cascade,
    kind text not null,
    subject text not null,
    last_sent_at timestamptz,
    primary key (tenant_id, kind, subject)
  )`);
  for (const table of ['notification_settings', 'notification_events', 'notification_windows'])
    await enableTenantRls(knex, table);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['notification_windows', 'notification_events', 'notification_settings']) {
    await disableTenantRls(knex, table);
    await knex.schema.dropTable(table);
  }
}
