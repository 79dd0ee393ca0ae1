/**
 * The development token secret: on the embedded database (no DATABASE_URL) and with no
 * ATLAS_JWT_SECRET or ATLAS_JWKS_URL, Atlas keeps an HS256 secret in ATLAS_HOME, so
 * `npm start` and `atlas token` agree and a newcomer can call the API at once. With a
 * DATABASE_URL (a real deployment) nothing is invented: tokens must be configured.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AuthConfig, Config } from '../config.ts';

const DEV_SECRET_FILE = 'jwt-secret';

export interface ResolvedAuth {
  auth: AuthConfig;
  /** Where the secret came from when Atlas made it itself. */
  devSecretFile: string | undefined;
}

export async function resolveAuth(config: Config): Promise<ResolvedAuth> {
  const { auth } = config;
  if (auth.jwtSecret !== undefined || auth.jwksUrl !== undefined || config.databaseUrl !== undefined) {
    return { auth, devSecretFile: undefined };
  }
  const file = path.join(config.home, DEV_SECRET_FILE);
  return { auth: { ...auth, jwtSecret: await readOrCreate(file) }, devSecretFile: file };
}

async function readOrCreate(file: string): Promise<string> {
  const existing = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (existing !== undefined && existing.trim().length >= 32) return existing.trim();
  await fs.mkdir(path.dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  // 'wx' loses a race to a concurrent first start cleanly: then read the winner's secret.
  try {
    await fs.writeFile(file, secret, { mode: 0o600, flag: existing === undefined ? 'wx' : 'w' });
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return (await fs.readFile(file, 'utf8')).trim();
    throw err;
  }
}
