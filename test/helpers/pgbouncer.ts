/**
 * Debian's PgBouncer in transaction mode in front of the test PostgreSQL, as a managed
 * database is often reached: the API, webhook and runtime tests run through it. Started once
 * per test run; every database name is passed through (`* =`).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../engine/db/embedded.ts';

const exec = promisify(execFile);

const CANDIDATES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer'];

export interface PgBouncer {
  /** `adminUrl` with PgBouncer's host and port. */
  url: string;
  stop(): Promise<void>;
}

export function pgbouncerBinary(): string | undefined {
  return CANDIDATES.find((file) => existsSync(file));
}

/** PgBouncer refuses to run as root: as root, it runs as the `postgres` user. */
async function runAs(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const id = async (flag: string) => Number((await exec('id', [flag, 'postgres'])).stdout.trim());
  return { uid: await id('-u'), gid: await id('-g') };
}

export async function startPgBouncer(binary: string, adminUrl: string): Promise<PgBouncer> {
  const server = new URL(adminUrl);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-pgbouncer-'));
  await fs.chmod(dir, 0o755);
  const port = await freePort();
  const user = decodeURIComponent(server.username);
  const password = decodeURIComponent(server.password);
  const quote = (s: string) => `"${s.replaceAll('"', '""')}"`;
  await fs.writeFile(path.join(dir, 'userlist.txt'), `${quote(user)} ${quote(password)}\n`, { mode: 0o600 });
  await fs.writeFile(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${server.hostname} port=${server.port || '5432'}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = scram-sha-256',
      `auth_file = ${path.join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      'max_client_conn = 4000',
      'default_pool_size = 20',
      'ignore_startup_parameters = extra_float_digits',
      `logfile = ${path.join(dir, 'pgbouncer.log')}`,
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
  );
  const ids = await runAs();
  if (ids.uid !== undefined) {
    for (const file of ['', 'userlist.txt', 'pgbouncer.ini'])
      await fs.chown(path.join(dir, file), ids.uid, ids.gid!);
  }
  const child: ChildProcess = spawn(binary, [path.join(dir, 'pgbouncer.ini')], { ...ids, stdio: 'ignore' });
  const url = new URL(adminUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  try {
    await ready(url.toString(), child);
  } catch (err) {
    child.kill('SIGKILL');
    const log = await fs.readFile(path.join(dir, 'pgbouncer.log'), 'utf8').catch(() => '');
    await fs.rm(dir, { recursive: true, force: true });
    throw new Error(`PgBouncer did not start: ${(err as Error).message}\n${log}`);
  }
  return {
    url: url.toString(),
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

async function ready(url: string, child: ChildProcess): Promise<void> {
  let last: unknown;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`it exited with code ${child.exitCode}`);
    const client = new pg.Client(url);
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.end().catch(() => {});
    }
  }
  throw last;
}
