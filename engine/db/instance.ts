/**
 * Which PostgreSQL a process uses: DATABASE_URL when set; otherwise the embedded one in
 * ATLAS_HOME, started by the first Atlas process (which holds the lock file) and shared by
 * later commands (`atlas run`, `atlas migrate status`) while it runs.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { isAlive, startEmbeddedPostgres } from './embedded.ts';

const DATABASE_NAME = 'atlas';

export interface DatabaseInstance {
  /** For the application's queries: may go through a transaction-mode pooler. */
  url: string;
  /** For what needs a session (migrations, LISTEN, replication): DIRECT_URL, else `url`. */
  directUrl: string;
  /** True when this process started the embedded server (and must stop it). */
  owned: boolean;
  release(): Promise<void>;
}

export class AlreadyRunningError extends Error {
  constructor(pid: number, home: string) {
    super(
      `Atlas is already running (pid ${pid}) with its data in ${home}; stop it first, or set DATABASE_URL`,
    );
    this.name = 'AlreadyRunningError';
  }
}

interface LockContent {
  pid: number;
  port: number;
}

/**
 * @param exclusive `serve` needs the embedded database for itself: a second one refuses to
 * start instead of sharing (two engines on one `.atlas/` would fight over its lock).
 */
export async function openDatabase(
  config: Config,
  log: Logger,
  exclusive: boolean,
): Promise<DatabaseInstance> {
  if (config.databaseUrl) {
    const url = config.databaseUrl;
    return { url, directUrl: config.directUrl ?? url, owned: false, release: async () => {} };
  }
  const lockFile = path.join(config.home, 'atlas.lock');
  const running = await readLock(lockFile);
  if (running && isAlive(running.pid) && running.pid !== process.pid) {
    if (exclusive) throw new AlreadyRunningError(running.pid, config.home);
    const url = await sharedUrl(config.home, running.port);
    return { url, directUrl: url, owned: false, release: async () => {} };
  }
  await fs.mkdir(config.home, { recursive: true });
  await fs.rm(lockFile, { force: true });
  const handle = await fs.open(lockFile, 'wx').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') throw new AlreadyRunningError(0, config.home);
    throw err;
  });
  try {
    const pg = await startEmbeddedPostgres({
      dataDir: path.join(config.home, 'pg'),
      onLog: (line) => log.debug({ component: 'postgres' }, line),
    });
    await handle.writeFile(JSON.stringify({ pid: process.pid, port: pg.port } satisfies LockContent));
    await handle.close();
    const url = await ensureDatabase(pg.url);
    log.info({ port: pg.port, dataDir: path.join(config.home, 'pg') }, 'postgres:started');
    return {
      url,
      directUrl: url,
      owned: true,
      release: async () => {
        await pg.stop();
        await fs.rm(lockFile, { force: true });
      },
    };
  } catch (err) {
    await handle.close().catch(() => {});
    await fs.rm(lockFile, { force: true });
    throw err;
  }
}

/** The URL of the embedded database a running engine holds in `home`, if one is running. */
export async function runningInstanceUrl(home: string): Promise<string | undefined> {
  const running = await readLock(path.join(home, 'atlas.lock'));
  if (!running || !isAlive(running.pid)) return undefined;
  return sharedUrl(home, running.port).catch(() => undefined);
}

async function readLock(file: string): Promise<LockContent | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as LockContent;
  } catch {
    return undefined;
  }
}

async function sharedUrl(home: string, port: number): Promise<string> {
  const { password } = JSON.parse(await fs.readFile(path.join(home, 'postgres.json'), 'utf8')) as {
    password: string;
  };
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE_NAME}`;
}

/** The embedded cluster's application database, created on first start. */
async function ensureDatabase(adminUrl: string): Promise<string> {
  const { default: pg } = await import('pg');
  const client = new pg.Client(adminUrl);
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [DATABASE_NAME]);
    if (found.rowCount === 0) await client.query(`create database ${DATABASE_NAME}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${DATABASE_NAME}`;
  return url.toString();
}
