/** Queries of `oauth_states`: authorizations in progress, by the SHA-256 of their state. */
import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export interface StateRow {
  state_hash: string;
  tenant_id: string;
  provider: string;
  user_sub: string;
  binding_hash: string;
  redirect_uri: string;
  /** Encrypted. */
  code_verifier: string | null;
  expires_at: Date;
}

export async function insertState(db: Db, row: StateRow): Promise<void> {
  await db('oauth_states').insert(row);
}

/** Deletes states that expired before `before`. */
export async function deleteStatesBefore(db: Db, before: Date): Promise<void> {
  await db('oauth_states').where('expires_at', '<', before).delete();
}

export async function readState(db: Db, stateHash: string): Promise<StateRow | undefined> {
  return db('oauth_states').where({ state_hash: stateHash }).first();
}

export async function deleteState(db: Db, stateHash: string): Promise<void> {
  await db('oauth_states').where({ state_hash: stateHash }).delete();
}

/** Deletes the state bound to this browser in the statement that reads it: it is spent once. */
export async function takeState(
  db: Db,
  stateHash: string,
  bindingHash: string,
): Promise<StateRow | undefined> {
  const [row] = (await db('oauth_states')
    .where({ state_hash: stateHash, binding_hash: bindingHash })
    .delete()
    .returning('*')) as Array<StateRow | undefined>;
  return row;
}
