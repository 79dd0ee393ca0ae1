// What the benchmarks share: their database and their loopback servers.
import fs from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { environment, loadConfig } from '../engine/config.ts';
import { startEmbeddedPostgres } from '../engine/db/embedded.ts';

/**
 * The database of a benchmark: DATABASE_URL when set, else a fresh embedded PostgreSQL
 * (fsync on, as a user would run it) with one database, removed afterwards.
 */
export async function benchDatabase(name: string): Promise<{ url: string; stop(): Promise<void> }> {
  const { databaseUrl } = loadConfig(environment());
  if (databaseUrl) return { url: databaseUrl, stop: async () => {} };
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-bench-'));
  await fs.chmod(dir, 0o755);
  const embedded = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'pg'),
    settings: { max_connections: '200' },
  });
  const admin = new pg.Client(embedded.url);
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(embedded.url);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    stop: async () => {
      await embedded.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** An HTTP server on a free loopback port. */
export async function listen(
  handler: Parameters<typeof createServer>[1],
): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}
