/**
 * The encryption keyring: ATLAS_ENCRYPTION_KEY, or on a development machine a key that
 * Atlas generates once and keeps in ATLAS_HOME (so the quick start needs no setup).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.ts';
import { generateKey, type Keyring, parseKeyring } from '../crypto/index.ts';
import type { Logger } from '../log.ts';

export async function loadKeyring(config: Config, log: Logger): Promise<Keyring> {
  // Validated by loadConfig: a bad value has stopped Atlas already.
  if (config.encryptionKey !== undefined) return parseKeyring(config.encryptionKey);
  const file = path.join(config.home, 'encryption.key');
  let key = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (key === undefined) {
    await fs.mkdir(config.home, { recursive: true });
    key = generateKey();
    await fs.writeFile(file, key, { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
      key = await fs.readFile(file, 'utf8');
    });
    if (config.databaseUrl) {
      log.warn(
        {
          file,
          hint: 'ATLAS_ENCRYPTION_KEY is not set: generated a key in ATLAS_HOME; set it to share one key between machines',
        },
        'secrets:key-generated',
      );
    }
  }
  return parseKeyring(key!.trim());
}
