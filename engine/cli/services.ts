import os from 'node:os';
import { recordAudit } from '../db/audit.ts';
import type { Knex } from '../db/knex.ts';
import { migrationStatus } from '../db/migrate.ts';
import { getTenant } from '../db/tenants.ts';
import { makeServices, type Services } from '../services.ts';
import { CliError, type CliIO } from './command.ts';
import { type CliDatabase, openCliDatabase } from './database.ts';
import { catalogueFailure } from './run.ts';

/** The engine's parts over the command's database, for commands that act as the API would. */
export async function withServices<T>(
  io: CliIO,
  fn: (services: Services, database: CliDatabase) => Promise<T>,
): Promise<T> {
  const database = await openCliDatabase(io, { poolSize: 4, prepare: true });
  let services: Services | undefined;
  try {
    if ((await migrationStatus(database.db)).pending.length > 0) {
      throw new CliError(
        'the database has pending migrations: run `atlas migrate up` (or start the engine) first',
      );
    }
    services = await makeServices(database.config, database.log, database.db).catch(catalogueFailure(io));
    return await fn(services, database);
  } finally {
    await services?.runtime.stop().catch(() => {});
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
