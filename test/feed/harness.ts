/**
 * An engine with its change feed reading this file's replication slot, its API on a real HTTP
 * server on loopback, and a token for one tenant: what the feed's API tests share.
 */
import { createServer } from 'node:http';
import { mintToken } from '../../engine/auth/mint.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { closeServer } from '../http/harness.ts';

export const WF_001 =
  'apiVersion: atlas/v1\nkind: Workflow\nid: WF-001\ntrigger: { type: manual }\nsteps:\n  - id: hello\n    uses: core.noop\n';

export interface FeedApi {
  engine: TestEngine;
  base: string;
  /** A token of `tenant` (the tenant's user). */
  token: string;
  stop(): Promise<void>;
}

export async function startFeedApi(
  database: TestDatabase,
  opts: { secret: string; tenant: string; tenants?: string[]; env?: Record<string, string> },
): Promise<FeedApi> {
  const engine = await startTestEngine(database, {
    manifests: { 'wf.yaml': WF_001 },
    ...(opts.tenants ? { tenants: opts.tenants } : {}),
    env: { ATLAS_JWT_SECRET: opts.secret, ...opts.env },
    http: true,
    feed: true,
  });
  const server = createServer(engine.engine.app!.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const token = await mintToken({
    secret: opts.secret,
    sub: `${opts.tenant}-user`,
    tenants: [opts.tenant],
    ttlSeconds: 600,
  });
  return {
    engine,
    base: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    token,
    async stop() {
      await closeServer(server);
      await engine.stop();
    },
  };
}
