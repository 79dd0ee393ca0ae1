import type { Knex } from 'knex';
import { disableTenantRls, enableTenantRls } from '../engine/db/rls.ts';

/**
 * The engine's ledger. graphile-worker deletes finished jobs, so the truth about every run,
 * step attempt and typed job lives here, and nothing is deleted on failure.
 */
export async function up(knex: Knex): Promise<void> {
  // Every manifest version a run started with, by content hash: a run finishes with the
  // version it started with even after a deploy changes the catalogue.
  await knex.schema.createTable('manifest_versions', (t) => {
    t.text('hash').primary();
    t.text('kind').notNullable();
    t.text('manifest_id').notNullable();
    t.jsonb('content').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  // Which tenant runs which workflow on its schedule, webhooks and events, with its values
  // for `tenant.config.*` templates.
  await knex.schema.createTable('tenant_workflows', (t) => {
    t.text('tenant_id').notNullable().references('tenants.id').onDelete('cascade');
    t.text('workflow_id').notNullable();
    t.boolean('enabled').notNullable().defaultTo(false);
    t.jsonb('config').notNullable().defaultTo('{}');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['tenant_id', 'workflow_id']);
  });

  await knex.schema.createTable('workflow_runs', (t) => {
    t.uuid('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('workflow_id').notNullable();
    t.text('manifest_hash').notNullable().references('manifest_versions.hash');
    t.text('status').notNullable();
    t.jsonb('input').notNullable();
    t.jsonb('trigger').notNullable();
    t.text('idempotency_key');
    t.text('concurrency_key');
    t.integer('concurrency_limit');
    /** Restarts from the beginning increment it; step attempts belong to one run attempt. */
    t.integer('run_attempt').notNullable().defaultTo(1);
    t.jsonb('error');
    t.uuid('parent_run_id');
    /** The worker process advancing the run, and until when its lease holds. */
    t.text('lease_owner');
    t.timestamp('lease_expires_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('started_at', { useTz: true });
    t.timestamp('finished_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`alter table workflow_runs add constraint workflow_runs_status
    check (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled'))`);
  await knex.raw(`create unique index workflow_runs_idempotency on workflow_runs (tenant_id, workflow_id, idempotency_key)
    where idempotency_key is not null`);
  await knex.raw('create index workflow_runs_list on workflow_runs (tenant_id, created_at desc, id desc)');
  await knex.raw(`create index workflow_runs_active on workflow_runs (tenant_id, workflow_id, concurrency_key)
    where status in ('queued', 'running')`);
  await knex.raw(
    'create index workflow_runs_lease on workflow_runs (lease_owner) where lease_owner is not null',
  );

  await knex.schema.createTable('jobs', (t) => {
    t.uuid('id').primary();
    t.text('tenant_id').notNullable().references('tenants.id');
    t.text('type').notNullable();
    t.text('uses').notNullable();
    t.text('status').notNullable();
    t.jsonb('payload').notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.integer('max_attempts').notNullable();
    t.jsonb('last_error');
    t.jsonb('result');
    t.text('idempotency_key');
    t.text('actor');
    t.timestamp('run_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('started_at', { useTz: true });
    t.timestamp('finished_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`alter table jobs add constraint jobs_status
    check (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled'))`);
  await knex.raw(`create unique index jobs_idempotency on jobs (tenant_id, type, idempotency_key)
    where idempotency_key is not null`);
  await knex.raw('create index jobs_list on jobs (tenant_id, created_at desc)');

  // One row per attempt of a step (of a run) or of a job; agent tasks add their model and
  // tool calls as rows of their job.
  await knex.schema.createTable('step_runs', (t) => {
    t.bigIncrements('id');
    t.text('tenant_id').notNullable().references('tenants.id');
    t.uuid('run_id').references('workflow_runs.id').onDelete('cascade');
    t.uuid('job_id').references('jobs.id').onDelete('cascade');
    t.text('step_id').notNullable();
    t.text('uses');
    t.integer('run_attempt').notNullable().defaultTo(1);
    t.integer('attempt').notNullable();
    t.integer('max_attempts').notNullable();
    t.text('status').notNullable();
    t.jsonb('input');
    t.jsonb('output');
    t.jsonb('error');
    t.text('skip_reason');
    /** When a failed attempt will be tried again (null when it will not). */
    t.timestamp('retry_at', { useTz: true });
    t.text('worker');
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.integer('duration_ms');
  });
  await knex.raw(`alter table step_runs add constraint step_runs_status
    check (status in ('running', 'succeeded', 'failed', 'skipped', 'cancelled'))`);
  await knex.raw(
    'alter table step_runs add constraint step_runs_owner check ((run_id is null) <> (job_id is null))',
  );
  await knex.raw('create index step_runs_run on step_runs (run_id, run_attempt, step_id, attempt)');
  await knex.raw('create index step_runs_job on step_runs (job_id, id)');

  // Liveness of worker processes: a process whose heartbeat stops has its queue locks and
  // run leases released by the others within seconds (graphile-worker alone waits 4 hours).
  await knex.schema.createTable('worker_heartbeats', (t) => {
    t.text('process_id').primary();
    t.specificType('queue_worker_ids', 'text[]').notNullable().defaultTo('{}');
    t.text('hostname').notNullable();
    t.integer('pid').notNullable();
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  for (const table of ['tenant_workflows', 'workflow_runs', 'jobs', 'step_runs']) {
    await enableTenantRls(knex, table);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['step_runs', 'jobs', 'workflow_runs', 'tenant_workflows']) {
    await disableTenantRls(knex, table);
  }
  for (const table of [
    'worker_heartbeats',
    'step_runs',
    'jobs',
    'workflow_runs',
    'tenant_workflows',
    'manifest_versions',
  ]) {
    await knex.schema.dropTable(table);
  }
}
