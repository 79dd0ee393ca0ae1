import type { Knex } from 'knex';
import { createFunctionSql } from '../engine/db/sql-functions.ts';
import { INSERT_EVENTS_FUNCTION } from '../engine/db/webhook-events.ts';

/**
 * `atlas_insert_webhook_events` inserts a batch's events in key order: intake batches are
 * written several at once, and two that hold each other's duplicates in opposite orders
 * would deadlock.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(createFunctionSql(INSERT_EVENTS_FUNCTION));
}

export async function down(): Promise<void> {
  // The function with the earlier order is equivalent but for the order: keep this one.
}
