import type { Knex } from 'knex';

/**
 * Wakes the feed's open streams: a statement that inserts into `feed_events` sends each of
 * its tenants' ids on `atlas_feed` (NOTIFY, delivered at commit; PostgreSQL folds repeats of
 * one payload in one transaction). Streams read the new events at once instead of polling.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function feed_events_notify() returns trigger language plpgsql as $$
    begin
      perform pg_notify('atlas_feed', t.tenant_id) from (select distinct tenant_id from inserted) t;
      return null;
    end $$`);
  await knex.raw(`create trigger feed_events_notify after insert on feed_events
    referencing new table as inserted for each statement execute function feed_events_notify()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger feed_events_notify on feed_events');
  await knex.raw('drop function feed_events_notify()');
}
