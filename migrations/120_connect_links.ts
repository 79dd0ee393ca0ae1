import type { Knex } from 'knex';
import { disableTenantRls, enableTenantRls } from '../engine/db/rls.ts';

/**
 * OAuth states are bound to the browser that started the authorization: `binding_hash` is the
 * sha256 of the secret in that browser's cookie, and a callback without it is refused.
 * Connect links are single-use, short-lived URLs that start an authorization for a tenant and
 * provider in whichever browser opens them (the web page, a "reconnect" notification); only
 * their sha256 is stored.
 */
export async function up(knex: Knex): Promise<void> {
  // States live 10 minutes: the few in flight cannot be bound any more and are started again.
  await knex('oauth_states').delete();
  await knex.schema.alterTable('oauth_states', (t) => {
    t.text('binding_hash')
      .notNullable()
      .comment("sha256 of the browser binding secret: the callback's cookie must hash to it");
  });

  await knex.schema.createTable('oauth_connect_links', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('token_hash')
      .notNullable()
      .unique()
      .comment('sha256 of the link token: the token is never stored');
    t.text('tenant_id').notNullable().references('tenants.id').onDelete('cascade');
    t.text('provider').notNullable().comment('OAuthProvider manifest id');
    t.text('user_sub').notNullable().comment('Who minted the link: the connection is made in their name');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('create index oauth_connect_links_expires_at_idx on oauth_connect_links (expires_at)');
  await enableTenantRls(knex, 'oauth_connect_links');
}

export async function down(knex: Knex): Promise<void> {
  await disableTenantRls(knex, 'oauth_connect_links');
  await knex.schema.dropTable('oauth_connect_links');
  await knex.schema.alterTable('oauth_states', (t) => {
    t.dropColumn('binding_hash');
  });
}
