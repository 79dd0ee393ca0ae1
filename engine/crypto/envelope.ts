/**
 * AES-256-GCM envelopes for tenant secrets and OAuth tokens:
 * `v1:<keyId>:<iv>:<tag>:<ciphertext>` (base64url parts, 12-byte random IV, 16-byte tag).
 * The key id makes rotation possible; the optional associated data binds a value to its
 * row (e.g. `tenant/secret-name`), so a ciphertext copied to another row fails to decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Keyring } from './keyring.ts';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class DecryptError extends Error {
  override readonly name = 'DecryptError';
}

export function encrypt(plaintext: string, keyring: Keyring, aad?: string): string {
  const key = keyring.keys.get(keyring.currentId);
  if (!key) throw new DecryptError(`current key "${keyring.currentId}" is missing from the keyring`);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  if (aad !== undefined) cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, keyring.currentId, b64(iv), b64(tag), b64(ct)].join(':');
}

/** Decrypts an envelope; throws DecryptError on a malformed, tampered or unknown-key value. */
export function decrypt(envelope: string, keyring: Keyring, aad?: string): string {
  const parts = envelope.split(':');
  if (parts.length !== 5 || parts[0] !== VERSION) throw new DecryptError('not a v1 envelope');
  const [, keyId, ivText, tagText, ctText] = parts as [string, string, string, string, string];
  const key = keyring.keys.get(keyId);
  if (!key) throw new DecryptError(`no key "${keyId}" in the keyring`);
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new DecryptError('malformed envelope');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    if (aad !== undefined) decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(ctText, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  } catch (cause) {
    // GCM authentication failure: wrong key, tampered bytes or wrong associated data.
    throw new DecryptError('envelope failed authentication', { cause });
  }
}

/** The key id an envelope was written with (to find rows that need re-encryption). */
export function envelopeKeyId(envelope: string): string | undefined {
  const parts = envelope.split(':');
  return parts.length === 5 && parts[0] === VERSION ? parts[1] : undefined;
}

/** True when the envelope is not under the current key and should be re-encrypted. */
export function needsRotation(envelope: string, keyring: Keyring): boolean {
  return envelopeKeyId(envelope) !== keyring.currentId;
}

/** A fresh random key, base64: what `npm start` writes to `.atlas/` in development. */
export function generateKey(): string {
  return randomBytes(32).toString('base64');
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64url');
}
