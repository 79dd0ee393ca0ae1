import type { Knex } from 'knex';
import { INSERT_RUNS_FUNCTION } from '../engine/db/run-inserts.ts';
import { createFunctionSql } from '../engine/db/sql-functions.ts';
import { INSERT_EVENTS_FUNCTION } from '../engine/db/webhook-events.ts';

/**
 * The run insert and the webhook events' insert as functions (`atlas_insert_runs`,
 * `atlas_insert_webhook_events`), so that each session plans them once instead of on every
 * trigger batch.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(createFunctionSql(INSERT_RUNS_FUNCTION));
  await knex.raw(createFunctionSql(INSERT_EVENTS_FUNCTION));
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function atlas_insert_webhook_events(jsonb)');
  await knex.raw('drop function atlas_insert_runs(json)');
}
