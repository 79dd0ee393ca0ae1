import type { Knex } from 'knex';
import { disableTenantRls, enableTenantRls } from '../engine/db/rls.ts';

/**
 * The change feed (engine/feed). A publication over the tables tenants watch; the engine reads
 * it through a logical replication slot and writes each change that matters as a row of
 * `feed_events`, in the transaction that also queues its webhook deliveries, before it lets
 * the slot advance. `(source_lsn, source_pos)` makes replaying a change after a crash a no-op;
 * `feed_entities` holds each entity's last event, so events are numbered per entity and a
 * change that does not move an entity's state (a lease renewal) makes none.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`create table feed_events (
    id bigint generated always as identity primary key,
    tenant_id text not null references tenants(id) on delete cascade,
    type text not null,
    entity_type text not null,
    entity_id text not null,
    entity_seq integer not null,
    data jsonb not null,
    source_lsn pg_lsn,
    source_pos integer,
    occurred_at timestamptz not null,
    created_at timestamptz not null default now()
  )`);
  await knex.raw('create unique index feed_events_source on feed_events (source_lsn, source_pos)');
  await knex.raw('create index feed_events_tenant on feed_events (tenant_id, id)');
  await knex.raw(`create table feed_entities (
    tenant_id text not null references tenants(id) on delete cascade,
    entity_type text not null,
    entity_id text not null,
    seq integer not null,
    state text not null,
    primary key (entity_type, entity_id)
  )`);
  await knex.raw(`create table feed_subscriptions (
    id uuid primary key,
    tenant_id text not null references tenants(id) on delete cascade,
    url text not null,
    types text[] not null,
    secret_name text not null,
    status text not null default 'active' check (status in ('active', 'disabled')),
    status_reason text,
    created_by text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`);
  await knex.raw('create index feed_subscriptions_tenant on feed_subscriptions (tenant_id, created_at)');
  // One row per slot the feed created: when, and when and why it had to be dropped (a gap).
  await knex.raw(`create table feed_slots (
    id bigint generated always as identity primary key,
    slot_name text not null,
    created_at timestamptz not null default now(),
    dropped_at timestamptz,
    dropped_lag_bytes bigint,
    dropped_reason text
  )`);
  for (const table of ['feed_events', 'feed_entities', 'feed_subscriptions'])
    await enableTenantRls(knex, table);
  await knex.raw('create publication atlas_feed for table workflow_runs, jobs, integrations, files');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop publication if exists atlas_feed');
  for (const table of ['feed_subscriptions', 'feed_entities', 'feed_events'])
    await disableTenantRls(knex, table);
  for (const table of ['feed_slots', 'feed_subscriptions', 'feed_entities', 'feed_events']) {
    await knex.schema.dropTable(table);
  }
}
