/** Queries of `oauth_app_tokens`: the platform apps' client-credentials tokens (encrypted), one row per cache key. */
import type { Knex } from 'knex';
import { setLockTimeout } from './knex.ts';

type Db = Knex | Knex.Transaction;

export interface AppTokenRow {
  cache_key: string;
  access_token: string | null;
  expires_at: Date | null;
}

export async function readAppToken(db: Db, key: string): Promise<AppTokenRow | undefined> {
  return db<AppTokenRow>('oauth_app_tokens').where({ cache_key: key }).first();
}

/**
 * Creates the cache row when missing and locks it until the transaction ends, waiting at most
 * `lockTimeoutMs`: one worker asks the provider while the others wait and read its answer.
 */
export async function lockAppToken(
  trx: Knex.Transaction,
  key: string,
  provider: string,
  lockTimeoutMs: number,
): Promise<AppTokenRow | undefined> {
  await setLockTimeout(trx, lockTimeoutMs);
  await trx('oauth_app_tokens').insert({ cache_key: key, provider }).onConflict('cache_key').ignore();
  return trx<AppTokenRow>('oauth_app_tokens').where({ cache_key: key }).forUpdate().first();
}

/** Stores a new (encrypted) token and its expiry. */
export async function storeAppToken(
  db: Db,
  key: string,
  accessToken: string,
  expiresAt: Date | null,
): Promise<void> {
  await db('oauth_app_tokens')
    .where({ cache_key: key })
    .update({ access_token: accessToken, expires_at: expiresAt, updated_at: db.fn.now() });
}
