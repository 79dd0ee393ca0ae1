/**
 * Atlas behind a transaction-mode pooler, as a managed PostgreSQL is reached: DATABASE_URL
 * through PgBouncer, DIRECT_URL beside it. The engine opens both itself, as `atlas serve` does.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mintToken } from '../../engine/auth/mint.ts';
import { type RunningEngine, startEngine } from '../../engine/engine.ts';
import { silentLogger } from '../../engine/log.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { servingConfig } from '../helpers/engine.ts';
import { waitFor } from '../helpers/poll.ts';

const SECRET = 'pooler-test-secret-0123456789abcdef';
const pooled = inject('poolerUrl') !== '';

const TITLE = 'DATABASE_URL through PgBouncer (transaction mode) with DIRECT_URL';
const SKIPPED = ' (skipped: PgBouncer is not installed; Debian package `pgbouncer`)';

describe.skipIf(!pooled)(pooled ? TITLE : TITLE + SKIPPED, () => {
  const database = useTestDatabase();
  let home: string;
  let engine: RunningEngine;

  beforeAll(async () => {
    expect(database.url).not.toBe(database.directUrl);
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-pooler-'));
    await fs.cp(path.resolve(import.meta.dirname, '../../manifests'), path.join(home, 'manifests'), {
      recursive: true,
    });
    await database.db('tenants').insert({ id: 'acme', name: 'Acme' });
    const config = servingConfig(database.url, home, SECRET, {
      DIRECT_URL: database.directUrl,
      ATLAS_WORKER_CONCURRENCY: '4',
    });
    engine = await startEngine({ config, log: silentLogger, http: true, worker: true, feed: false });
  });
  afterAll(async () => {
    await engine?.stop();
    await fs.rm(home, { recursive: true, force: true });
  });

  it('runs WF-001 to its end within seconds, three times in a row', async () => {
    const token = await mintToken({ secret: SECRET, sub: 'ops', tenants: ['acme'], ttlSeconds: 60 });
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${engine.url}/v1/workflows/WF-001/runs`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'x-tenant-id': 'acme',
          'content-type': 'application/json',
        },
        body: JSON.stringify({ input: { name: `Ada ${i}` } }),
      });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };
      const started = Date.now();
      await waitFor(async () => {
        const run = await database.db('workflow_runs').where({ id }).first();
        return run?.status === 'succeeded';
      }, 5_000);
      expect(Date.now() - started).toBeLessThan(5_000);
    }
  });
});
