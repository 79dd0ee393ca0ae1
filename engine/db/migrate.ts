/**
 * Schema migrations: knex migrations from `migrations/` (append-only, applied in file-name
 * order), then graphile-worker's own schema.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Knex } from 'knex';

const MIGRATIONS_DIR = path.resolve(import.meta.dirname, '../../migrations');
const FILE = /^\d{3,}_[a-z0-9_]+\.ts$/;

interface MigrationModule {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Reads `migrations/` itself so the same files load under tsx, vitest and the compiled CLI. */
class DirectorySource implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    const files = await fs.readdir(MIGRATIONS_DIR);
    return files.filter((f) => FILE.test(f)).sort();
  }
  getMigrationName(file: string): string {
    return file.replace(/\.ts$/, '');
  }
  async getMigration(file: string): Promise<MigrationModule> {
    // A pattern import: the compiled CLI (bin/build-dist.js) bundles every file it matches.
    return (await import(`../../migrations/${this.getMigrationName(file)}.ts`)) as MigrationModule;
  }
}

const config = (): Knex.MigratorConfig => ({
  migrationSource: new DirectorySource(),
  tableName: 'atlas_migrations',
});

export async function migrateUp(db: Knex, connectionString: string): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(config())) as [number, string[]];
  await migrateQueue(connectionString);
  return applied;
}

/**
 * Migrates over a direct connection (`directUrl`): a migration may need a session, which a
 * transaction-mode pooler in front of `db` would not keep. Uses `db` when they are the same.
 */
export async function migrateDirect(
  db: Knex,
  database: { url: string; directUrl: string },
  makeDirect: (url: string) => Knex,
): Promise<string[]> {
  if (database.directUrl === database.url) return migrateUp(db, database.url);
  const direct = makeDirect(database.directUrl);
  try {
    return await migrateUp(direct, database.directUrl);
  } finally {
    await direct.destroy();
  }
}

/**
 * graphile-worker installs and upgrades its `graphile_worker` schema itself; it loads only
 * here, so that commands that only read the migration status do not pay for it.
 */
async function migrateQueue(connectionString: string): Promise<void> {
  const { Logger, runMigrations } = await import('graphile-worker');
  await runMigrations({ connectionString, logger: new Logger(() => () => {}) });
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
}

export async function migrationStatus(db: Knex): Promise<MigrationStatus> {
  // With a custom source, knex lists pending migrations as the source's own items (file names).
  const [completed, pending] = (await db.migrate.list(config())) as [Array<{ name: string }>, string[]];
  const source = new DirectorySource();
  return {
    applied: completed.map((m) => m.name),
    pending: pending.map((file) => source.getMigrationName(file)),
  };
}

/** Rolls back the most recent migration. */
export async function migrateDown(db: Knex): Promise<string[]> {
  const [, undone] = (await db.migrate.down(config())) as [number, string[]];
  return undone;
}
