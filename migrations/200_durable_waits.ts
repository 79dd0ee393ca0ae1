import type { Knex } from 'knex';
import { disableTenantRls, enableTenantRls } from '../engine/db/rls.ts';

/**
 * Durable waits: a run parked on a timer or a signal has status `waiting` (no lease, no
 * worker slot; its queue job is due when it resumes), and the step it waits in has status
 * `waiting`, its resume time in `retry_at`. A waiting run still counts in its concurrency group.
 * `run_signals` records every signal delivered to a run: who sent it, its payload, and the
 * client's Idempotency-Key, so a repeated delivery is answered without acting twice.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table workflow_runs drop constraint workflow_runs_status,
    add constraint workflow_runs_status
    check (status in ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'))`);
  await knex.raw(`alter table step_runs drop constraint step_runs_status,
    add constraint step_runs_status
    check (status in ('running', 'waiting', 'succeeded', 'failed', 'skipped', 'cancelled'))`);
  await knex.raw('drop index workflow_runs_active');
  await knex.raw(`create index workflow_runs_active on workflow_runs (tenant_id, workflow_id, concurrency_key)
    where status in ('queued', 'running', 'waiting')`);
  await knex.raw(`create table run_signals (
    id bigserial primary key,
    tenant_id text not null references tenants(id),
    run_id uuid not null references workflow_runs(id) on delete cascade,
    name text not null,
    step_run_id bigint not null,
    sender text not null,
    payload jsonb,
    idempotency_key text,
    created_at timestamptz not null default now())`);
  await knex.raw(`create unique index run_signals_idempotency on run_signals (tenant_id, run_id, idempotency_key)
    where idempotency_key is not null`);
  await enableTenantRls(knex, 'run_signals', { privileges: ['select', 'insert'] });
}

export async function down(knex: Knex): Promise<void> {
  await disableTenantRls(knex, 'run_signals');
  await knex.raw('drop table run_signals');
  await knex.raw('drop index workflow_runs_active');
  await knex.raw(`create index workflow_runs_active on workflow_runs (tenant_id, workflow_id, concurrency_key)
    where status in ('queued', 'running')`);
  await knex.raw(`alter table step_runs drop constraint step_runs_status,
    add constraint step_runs_status
    check (status in ('running', 'succeeded', 'failed', 'skipped', 'cancelled'))`);
  await knex.raw(`alter table workflow_runs drop constraint workflow_runs_status,
    add constraint workflow_runs_status
    check (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled'))`);
}
