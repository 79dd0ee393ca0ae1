/**
 * The tenant secrets store: values encrypted with AES-256-GCM before they reach the
 * database (bound to their tenant and name, so a ciphertext copied to another row does not
 * decrypt), decrypted only when an action needs them, and never returned by the API.
 */
import type { Knex } from 'knex';
import { decrypt, encrypt, envelopeKeyId, type Keyring } from '../crypto/index.ts';
import { deleteSecret, listSecrets, readSecretCiphertext, upsertSecret } from '../db/tenant-secrets.ts';
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
      const ciphertext = await readSecretCiphertext(db, tenantId, name);
      return ciphertext === undefined ? undefined : decrypt(ciphertext, keyring, aad(tenantId, name));
    },
    async put(tenantId, name, value, trx) {
      if (!SECRET_NAME.test(name)) throw new Error(`"${name}" is not a secret name`);
      const ciphertext = encrypt(value, keyring, aad(tenantId, name));
      return upsertSecret(
        trx ?? db,
        tenantId,
        name,
        ciphertext,
        envelopeKeyId(ciphertext) ?? keyring.currentId,
      );
    },
    async list(tenantId) {
      const rows = await listSecrets(db, tenantId);
      return rows.map((r) => ({
        name: r.name,
        keyId: r.key_id,
        createdAt: r.created_at.toISOString(),
        updatedAt: r.updated_at.toISOString(),
      }));
    },
    async remove(tenantId, name, trx) {
      return deleteSecret(trx ?? db, tenantId, name);
    },
  };
}
