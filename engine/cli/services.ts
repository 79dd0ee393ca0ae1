import os from 'node:os';
import { recordAudit } from '../db/audit.ts';
import type { Knex } from '../db/knex.ts';
import { migrationStatus } from '../db/migrate.ts';
import { getTenant } from '../db/tenants.ts';
import { type RunningEngine, startEngine } from '../engine.ts';
import type { Services } from '../services.ts';
import { CliError, type CliIO } from './command.ts';
import { type CliDatabase, openCliDatabase } from './database.ts';
import { catalogueFailure } from './run.ts';

/** The engine's parts over the command's database, for commands that act as the API would. */
export async function withServices<T>(
  io: CliIO,
  fn: (services: Services, database: CliDatabase) => Promise<T>,
): Promise<T> {
  const database = await openCliDatabase(io, { poolSize: 4, prepare: true });
  let engine: RunningEngine | undefined;
  try {
    if ((await migrationStatus(database.db)).pending.length > 0) {
      throw new CliError(
        'the database has pending migrations: run `atlas migrate up` (or start the engine) first',
      );
    }
    // No role: the engine's parts over the command's database.
    engine = await startEngine({
      config: database.config,
      log: database.log,
      http: false,
      worker: false,
      database: { db: database.db, url: database.instance.url },
    }).catch(catalogueFailure(io));
    return await fn(engine.services, database);
  } finally {
    await engine?.stop().catch(() => {});
    await database.close();
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
