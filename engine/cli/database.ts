import type { Config } from '../config.ts';
import { ConfigError } from '../config.ts';
import { type DatabaseInstance, openDatabase } from '../db/instance.ts';
import { type Knex, makeDb } from '../db/knex.ts';
import { type Logger, makeLogger } from '../log.ts';
import { CliError, type CliIO, configFrom } from './command.ts';

export interface CliDatabase {
  config: Config;
  log: Logger;
  instance: DatabaseInstance;
  db: Knex;
  close(): Promise<void>;
}

/**
 * The database a one-off command works on: DATABASE_URL, the running engine's embedded one,
 * or an embedded one it starts itself. With `prepare`, a database this command started is
 * brought up to date as `atlas serve` would (migrations, the `demo` tenant); a shared one is
 * the engine's to migrate.
 */
export async function openCliDatabase(
  io: CliIO,
  opts: { poolSize?: number; prepare?: boolean } = {},
): Promise<CliDatabase> {
  const config = configFrom(io);
  // Commands print their own results; only warnings and errors are logged.
  const log = makeLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, false);
  const instance = await openDatabase(config, log, false).catch((err: unknown) => {
    throw err instanceof ConfigError ? new CliError(err.message) : err;
  });
  const db = makeDb(instance.url, { poolSize: opts.poolSize ?? 2 });
  const close = async () => {
    await db.destroy();
    await instance.release();
  };
  try {
    if (opts.prepare && instance.owned) {
      // Only a database this command started needs it; the engine's wiring loads only then.
      const { prepareDatabase } = await import('../engine.ts');
      await prepareDatabase(db, instance, log);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { config, log, instance, db, close };
}
