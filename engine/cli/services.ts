import os from 'node:os';
import { recordAudit } from '../db/audit.ts';
import { anyWorkerAlive } from '../db/heartbeats.ts';
import type { Knex } from '../db/knex.ts';
import { migrationStatus } from '../db/migrate.ts';
import { getTenant } from '../db/tenants.ts';
import { type RunningEngine, startEngine } from '../engine.ts';
import type { Services } from '../services.ts';
import { catalogueFailure } from './catalogue-errors.ts';
import { CliError, type CliIO } from './command.ts';
import { type CliDatabase, openCliDatabase } from './database.ts';

export interface OpenedEngine {
  engine: RunningEngine;
  database: CliDatabase;
  close(): Promise<void>;
}

/**
 * The engine's parts over the command's database (no role), for commands that act as the API
 * would; with `worker`, a queue worker too when no worker process is alive.
 */
export async function openEngine(io: CliIO, opts: { worker?: boolean } = {}): Promise<OpenedEngine> {
  const database = await openCliDatabase(io, { poolSize: 4, prepare: true });
  let engine: RunningEngine | undefined;
  const close = async () => {
    await engine?.stop().catch(() => {});
    await database.close();
  };
  try {
    if ((await migrationStatus(database.db)).pending.length > 0) {
      throw new CliError(
        'the database has pending migrations: run `atlas migrate up` (or start the engine) first',
      );
    }
    engine = await startEngine({
      config: database.config,
      log: database.log,
      http: false,
      worker: false,
      schedules: false,
      database: { db: database.db, url: database.instance.url, directUrl: database.instance.directUrl },
    }).catch(catalogueFailure(io));
    if (opts.worker && !(await anyWorkerAlive(database.db))) await engine.startWorker(4);
    return { engine, database, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** {@link openEngine} around `fn`, closed afterwards. */
export async function withServices<T>(
  io: CliIO,
  fn: (services: Services, database: CliDatabase) => Promise<T>,
): Promise<T> {
  const opened = await openEngine(io);
  try {
    return await fn(opened.engine.services, opened.database);
  } finally {
    await opened.close();
  }
}

/** Fails with one sentence when the tenant does not exist. */
export async function requireTenant(db: Knex, tenantId: string): Promise<void> {
  if (!(await getTenant(db, tenantId)))
    throw new CliError(`there is no tenant "${tenantId}"; \`atlas tenants list\` shows them`);
}

/** An audit entry for a change made from the command line, with the user name as the actor. */
export function auditCli(
  db: Knex,
  entry: { tenantId: string; action: string; entityType: string; entityId: string; summary: unknown },
): Promise<unknown> {
  return recordAudit(db, { ...entry, actor: `cli:${os.userInfo().username}`, result: 'ok' });
}
