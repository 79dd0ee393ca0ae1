import type { Knex } from 'knex';
import { disableTenantRls, enableTenantRls } from '../engine/db/rls.ts';

/**
 * Sub-workflows: `run_calls` links a child run (started by a `workflow.run` step) to the run
 * and step that called it, within one tenant. `parent_run_id` keeps its own meaning (the run
 * whose end triggered an event run). `depth` is 1 for a child of a top-level run; `waits`
 * says whether the caller parks until the child ends.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`create table run_calls (
    run_id uuid primary key references workflow_runs(id) on delete cascade,
    tenant_id text not null references tenants(id),
    caller_run_id uuid not null references workflow_runs(id) on delete cascade,
    caller_step_id text not null,
    depth integer not null,
    waits boolean not null,
    created_at timestamptz not null default now())`);
  await knex.raw('create index run_calls_caller on run_calls (tenant_id, caller_run_id)');
  await enableTenantRls(knex, 'run_calls', { privileges: ['select', 'insert'] });
}

export async function down(knex: Knex): Promise<void> {
  await disableTenantRls(knex, 'run_calls');
  await knex.raw('drop table run_calls');
}
