import type { Knex } from 'knex';

/**
 * Fixed-window counters of the connectors' rate limits, shared by every worker process
 * (engine/hub/pg-rate-limit.ts). UNLOGGED: the counters are worth no WAL, and a crash that
 * empties the table only lets one window's calls through again.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create unlogged table rate_limit_windows (
      key text not null,
      window_start timestamptz not null,
      expires_at timestamptz not null,
      count integer not null,
      primary key (key, window_start)
    )`);
  await knex.raw(
    `comment on column rate_limit_windows.key is '<connector>:<credential scope>:<rendered key | *>@<limit>/<window ms>'`,
  );
  // The sweep deletes by expiry; without this index it would scan every live counter.
  await knex.raw('create index rate_limit_windows_expires on rate_limit_windows (expires_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table rate_limit_windows');
}
