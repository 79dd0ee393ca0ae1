/**
 * The whole engine in this process (`startEngine`: API, worker and scheduler) on the test
 * file's database, with every log line it writes kept, at trace level, for scanning.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { mintToken } from '../../engine/auth/mint.ts';
import { loadConfig } from '../../engine/config.ts';
import { type RunningEngine, startEngine } from '../../engine/engine.ts';
import { tenantRequest } from '../helpers/api.ts';
import type { TestDatabase } from '../helpers/db.ts';

export const JWT_SECRET = 'atlas-secrets-test-jwt-0123456789abcdef';

export interface ApiEngine {
  engine: RunningEngine;
  url: string;
  /** Every log line the engine wrote, as written (JSON). */
  logs: string[];
  call(method: string, urlPath: string, opts?: { tenant?: string; body?: unknown }): Promise<Response>;
  stop(): Promise<void>;
}

export async function startApiEngine(
  database: TestDatabase,
  opts: { manifests?: Record<string, string>; env?: Record<string, string>; tenants?: string[] } = {},
): Promise<ApiEngine> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-secrets-'));
  const dir = path.join(home, 'manifests');
  await fs.mkdir(dir);
  for (const [name, text] of Object.entries(opts.manifests ?? {}))
    await fs.writeFile(path.join(dir, name), text);
  const tenants = opts.tenants ?? ['acme', 'globex'];
  for (const id of tenants) await database.db('tenants').insert({ id, name: id }).onConflict('id').ignore();
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const config = loadConfig({
    DATABASE_URL: database.url,
    DIRECT_URL: database.directUrl,
    PORT: '0',
    ATLAS_HOME: home,
    ATLAS_MANIFESTS: dir,
    ATLAS_JWT_SECRET: JWT_SECRET,
    ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
    ATLAS_SHUTDOWN_TIMEOUT: '2s',
    ...opts.env,
  });
  const log = pino({ level: 'trace' }, sink);
  const engine = await startEngine({ config, log, http: true, worker: true });
  const url = engine.url!;
  const token = await mintToken({ secret: JWT_SECRET, sub: 'ops@acme', tenants, ttlSeconds: 600 });
  return {
    engine,
    url,
    logs,
    call(method, urlPath, { tenant = 'acme', body } = {}) {
      return tenantRequest(`${url}${urlPath}`, token, tenant, method, body);
    },
    async stop() {
      await engine.stop();
      await fs.rm(home, { recursive: true, force: true });
    },
  };
}
