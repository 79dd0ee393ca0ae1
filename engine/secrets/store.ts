/**
 * The tenant secrets store: values encrypted with AES-256-GCM before they reach the
 * database (bound to their tenant and name, so a ciphertext copied to another row does not
 * decrypt), decrypted only when an action needs them, and never returned by the API.
 */
import type { Knex } from 'knex';
import { decrypt, encrypt, envelopeKeyId, type Keyring } from '../crypto/index.ts';
import type { SecretStore } from '../runtime/deps.ts';

export const SECRET_NAME = /^[A-Za-z][A-Za-z0-9_]{0,127}$/;

export interface SecretInfo {
  name: string;
  keyId: string;
  createdAt: string;
  updatedAt: string;
}

const aad = (tenantId: string, name: string) => `tenant_secrets:${tenantId}:${name}`;

export function makeSecretStore(
  db: Knex,
  keyring: Keyring,
): SecretStore & {
  put(tenantId: string, name: string, value: string, trx?: Knex.Transaction): Promise<{ created: boolean }>;
  list(tenantId: string): Promise<SecretInfo[]>;
  remove(tenantId: string, name: string, trx?: Knex.Transaction): Promise<boolean>;
} {
  return {
    async get(tenantId, name) {
      const row = await db('tenant_secrets').where({ tenant_id: tenantId, name }).first('ciphertext');
      return row ? decrypt(row.ciphertext as string, keyring, aad(tenantId, name)) : undefined;
    },
    async put(tenantId, name, value, trx) {
      if (!SECRET_NAME.test(name)) throw new Error(`"${name}" is not a secret name`);
      const ciphertext = encrypt(value, keyring, aad(tenantId, name));
      const q = trx ?? db;
      const rows = (await q('tenant_secrets')
        .insert({
          tenant_id: tenantId,
          name,
          ciphertext,
          key_id: envelopeKeyId(ciphertext) ?? keyring.currentId,
        })
        .onConflict(['tenant_id', 'name'])
        .merge({ ciphertext, key_id: envelopeKeyId(ciphertext) ?? keyring.currentId, updated_at: q.fn.now() })
        .returning(q.raw('(xmax = 0) as created'))) as Array<{ created: boolean }>;
      return { created: rows[0]?.created ?? false };
    },
    async list(tenantId) {
      const rows = await db('tenant_secrets')
        .where({ tenant_id: tenantId })
        .orderBy('name')
        .select<Array<{ name: string; key_id: string; created_at: Date; updated_at: Date }>>(
          'name',
          'key_id',
          'created_at',
          'updated_at',
        );
      return rows.map((r) => ({
        name: r.name,
        keyId: r.key_id,
        createdAt: r.created_at.toISOString(),
        updatedAt: r.updated_at.toISOString(),
      }));
    },
    async remove(tenantId, name, trx) {
      return (await (trx ?? db)('tenant_secrets').where({ tenant_id: tenantId, name }).delete()) > 0;
    },
  };
}
