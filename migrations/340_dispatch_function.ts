import type { Knex } from 'knex';
import { DISPATCH_FUNCTION } from '../engine/db/run-outbox.ts';
import { createFunctionSql } from '../engine/db/sql-functions.ts';

/**
 * The run outbox's dispatch statement as a function (`atlas_dispatch_runs`), so that each
 * session plans it once instead of on every call.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(createFunctionSql(DISPATCH_FUNCTION));
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function atlas_dispatch_runs(int, int)');
}
