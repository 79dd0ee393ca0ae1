import type { Knex } from 'knex';

/**
 * Durable waits: a run parked on a timer or a signal has status `waiting` (no lease, no
 * worker slot; its queue job is due when it resumes), and the step it waits in has status
 * `waiting`, its resume time in `retry_at`. A waiting run still counts in its concurrency group.
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
}

export async function down(knex: Knex): Promise<void> {
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
