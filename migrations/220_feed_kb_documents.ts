import type { Knex } from 'knex';

/**
 * The change feed watches knowledge-base documents too (`kb.document.*` events; their chunks
 * are not news), and prunes its events by age (ATLAS_FEED_RETENTION): an index on when each
 * was recorded.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter publication atlas_feed add table kb_documents');
  await knex.raw('create index feed_events_created on feed_events (created_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists feed_events_created');
  await knex.raw('alter publication atlas_feed drop table kb_documents');
}
