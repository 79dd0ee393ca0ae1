/**
 * The encryption keyring, from `ATLAS_ENCRYPTION_KEY`:
 * - one key: `<base64 of 32 bytes>` (its id is `k1`), or
 * - several, for rotation: `id:key,id:key`. The first is current (used to encrypt); the
 *   others only decrypt values written before the rotation. Re-encrypting old rows with the
 *   current key is a maintenance job; nothing breaks while it has not run.
 */

export interface Keyring {
  /** Id of the key new values are encrypted with. */
  currentId: string;
  keys: ReadonlyMap<string, Buffer>;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export class KeyringError extends Error {
  override readonly name = 'KeyringError';
}

function decodeKey(id: string, value: string): Buffer {
  const key = Buffer.from(value.trim(), 'base64');
  // Buffer.from silently skips bad characters; re-encoding catches a mistyped key.
  if (key.length !== 32 || key.toString('base64').replace(/=+$/, '') !== value.trim().replace(/=+$/, '')) {
    throw new KeyringError(`encryption key "${id}" must be 32 bytes, base64 encoded`);
  }
  return key;
}

/** Parses a keyring. Error messages never include key material. */
export function parseKeyring(value: string | undefined): Keyring {
  if (value === undefined || value.trim() === '') {
    throw new KeyringError('ATLAS_ENCRYPTION_KEY is not set');
  }
  const keys = new Map<string, Buffer>();
  let currentId: string | undefined;
  for (const part of value.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const colon = item.indexOf(':');
    const id = colon === -1 ? 'k1' : item.slice(0, colon);
    const material = colon === -1 ? item : item.slice(colon + 1);
    if (!KEY_ID.test(id)) throw new KeyringError(`encryption key id "${id}" must match ${KEY_ID}`);
    if (keys.has(id)) throw new KeyringError(`encryption key id "${id}" appears twice`);
    keys.set(id, decodeKey(id, material));
    currentId ??= id;
  }
  if (currentId === undefined) throw new KeyringError('ATLAS_ENCRYPTION_KEY holds no key');
  return { currentId, keys };
}
