import type { Knex } from 'knex';
import { disableTenantRls, enableTenantRls } from '../engine/db/rls.ts';

/**
 * OAuth: a tenant's integrations (one per provider, tokens encrypted), the one-time `state`
 * of authorizations in progress, and the platform's shared client-credentials tokens.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('integrations', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('tenant_id').notNullable().references('tenants.id').onDelete('cascade');
    t.text('provider').notNullable().comment('OAuthProvider manifest id');
    t.text('account').comment('Who connected at the provider (email, sub, open_id), when it says');
    t.specificType('scopes', 'text[]').notNullable().defaultTo('{}');
    t.text('status').notNullable().defaultTo('connected');
    t.text('status_reason').comment('Why it is disconnected (invalid_grant, expired)');
    t.text('access_token').comment('v1:<key id>:<iv>:<tag>:<ciphertext>, bound to the row');
    t.text('refresh_token').comment('v1:<key id>:<iv>:<tag>:<ciphertext>, bound to the row');
    t.text('key_id');
    t.timestamp('expires_at', { useTz: true }).comment('When the access token expires; null: unknown');
    t.timestamp('refreshed_at', { useTz: true });
    t.integer('version').notNullable().defaultTo(1).comment('Bumped on every token write');
    t.text('connected_by').comment('Token subject of the user who authorized');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['tenant_id', 'provider']);
  });
  await knex.raw(
    `alter table integrations add constraint integrations_status check (status in ('connected', 'disconnected'))`,
  );
  await enableTenantRls(knex, 'integrations');

  await knex.schema.createTable('oauth_states', (t) => {
    t.text('state_hash').primary().comment('sha256 of the state: the state itself is never stored');
    t.text('tenant_id').notNullable().references('tenants.id').onDelete('cascade');
    t.text('provider').notNullable();
    t.text('user_sub').notNullable();
    t.text('code_verifier').comment('PKCE verifier, encrypted and bound to the state hash');
    t.text('redirect_uri').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('create index oauth_states_expires_at_idx on oauth_states (expires_at)');
  await enableTenantRls(knex, 'oauth_states');

  // Platform credentials (the Microsoft Graph app), shared by every worker and every tenant:
  // no tenant column, and atlas_app is granted nothing on it.
  await knex.schema.createTable('oauth_app_tokens', (t) => {
    t.text('cache_key').primary().comment('sha256 of token URL, client id, secret and scope');
    t.text('provider').notNullable();
    t.text('access_token').comment('v1 envelope bound to the cache key');
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('oauth_app_tokens');
  await disableTenantRls(knex, 'oauth_states');
  await knex.schema.dropTable('oauth_states');
  await disableTenantRls(knex, 'integrations');
  await knex.schema.dropTable('integrations');
}
