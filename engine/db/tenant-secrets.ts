/** Queries of `tenant_secrets`: encrypted secret values by tenant and name (never decrypted here). */
import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export interface SecretRow {
  name: string;
  key_id: string;
  created_at: Date;
  updated_at: Date;
}

/** The ciphertext of one secret, or undefined. */
export async function readSecretCiphertext(
  db: Db,
  tenantId: string,
  name: string,
): Promise<string | undefined> {
  const row = await db('tenant_secrets').where({ tenant_id: tenantId, name }).first('ciphertext');
  return row ? (row.ciphertext as string) : undefined;
}

/** Inserts or replaces a secret's ciphertext; says whether the row is new. */
export async function upsertSecret(
  db: Db,
  tenantId: string,
  name: string,
  ciphertext: string,
  keyId: string,
): Promise<{ created: boolean }> {
  const rows = (await db('tenant_secrets')
    .insert({ tenant_id: tenantId, name, ciphertext, key_id: keyId })
    .onConflict(['tenant_id', 'name'])
    .merge({ ciphertext, key_id: keyId, updated_at: db.fn.now() })
    .returning(db.raw('(xmax = 0) as created'))) as Array<{ created: boolean }>;
  return { created: rows[0]?.created ?? false };
}

/** The tenant's secrets (names and key ids, no values), by name. */
export async function listSecrets(db: Db, tenantId: string): Promise<SecretRow[]> {
  return db('tenant_secrets')
    .where({ tenant_id: tenantId })
    .orderBy('name')
    .select<SecretRow[]>('name', 'key_id', 'created_at', 'updated_at');
}

/** Deletes one secret; says whether it existed. */
export async function deleteSecret(db: Db, tenantId: string, name: string): Promise<boolean> {
  return (await db('tenant_secrets').where({ tenant_id: tenantId, name }).delete()) > 0;
}
