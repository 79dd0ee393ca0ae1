import type { Knex } from 'knex';

/**
 * A step attempt belongs to a run or to a typed job, never both: each of the two lookup
 * indexes keeps only its own rows, so the three attempts of a run add nothing to the jobs'
 * index (its entries were all nulls) and a job's attempts nothing to the runs'. Every query
 * of either compares the column with a value, which implies it is not null.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('drop index step_runs_job');
  await knex.raw('create index step_runs_job on step_runs (job_id, id) where job_id is not null');
  await knex.raw('drop index step_runs_run');
  await knex.raw(
    'create index step_runs_run on step_runs (run_id, run_attempt, step_id, attempt) where run_id is not null',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index step_runs_run');
  await knex.raw('create index step_runs_run on step_runs (run_id, run_attempt, step_id, attempt)');
  await knex.raw('drop index step_runs_job');
  await knex.raw('create index step_runs_job on step_runs (job_id, id)');
}
