/** Queries of `oauth_connect_links`: single-use links, stored as the SHA-256 of their token. */
import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export interface ConnectLinkRow {
  id: string;
  token_hash: string;
  tenant_id: string;
  provider: string;
  user_sub: string;
  expires_at: Date;
}

export async function insertConnectLink(db: Db, row: Omit<ConnectLinkRow, 'id'>): Promise<string> {
  const [inserted] = (await db('oauth_connect_links').insert(row).returning('id')) as Array<{ id: string }>;
  return inserted!.id;
}

/** Deletes links that expired before `before`. */
export async function deleteConnectLinksBefore(db: Db, before: Date): Promise<void> {
  await db('oauth_connect_links').where('expires_at', '<', before).delete();
}

/** Deletes the link in the statement that reads it: it opens once. */
export async function takeConnectLink(db: Db, tokenHash: string): Promise<ConnectLinkRow | undefined> {
  const [row] = (await db('oauth_connect_links')
    .where({ token_hash: tokenHash })
    .delete()
    .returning('*')) as Array<ConnectLinkRow | undefined>;
  return row;
}
