import { makeDb } from '../db/knex.ts';
import { migrateDirect, migrateDown, migrationStatus } from '../db/migrate.ts';
import { CliError, type Command, UsageError } from './command.ts';
import { openCliDatabase } from './database.ts';
import { parseCommandArgs } from './main.ts';

export const migrate: Command = {
  name: 'migrate',
  summary: 'Apply, list or roll back database migrations',
  usage: `Usage: atlas migrate <up|status|down>

  up      apply every pending migration (also the queue's schema)
  status  list applied and pending migrations
  down    roll back the most recent migration`,
  async run(args, io) {
    const { positionals } = parseCommandArgs(args, {}, true);
    const [action, ...extra] = positionals;
    if (!action || !['up', 'status', 'down'].includes(action) || extra.length > 0) {
      throw new UsageError(
        action ? `unknown action "${[action, ...extra].join(' ')}"` : 'an action is required',
      );
    }
    const { instance, db, close } = await openCliDatabase(io);
    try {
      if (action === 'up') {
        const applied = await migrateDirect(db, instance, (url) => makeDb(url, { poolSize: 1 }));
        io.out(applied.length ? applied.map((m) => `applied ${m}`).join('\n') : 'Already up to date.');
      } else if (action === 'down') {
        const undone = await migrateDown(db);
        io.out(undone.length ? undone.map((m) => `rolled back ${m}`).join('\n') : 'Nothing to roll back.');
      } else {
        const status = await migrationStatus(db);
        for (const m of status.applied) io.out(`applied  ${m}`);
        for (const m of status.pending) io.out(`pending  ${m}`);
        if (status.applied.length + status.pending.length === 0) io.out('No migrations.');
      }
      return 0;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === '28P01' || code === '3D000') {
        throw new CliError(`DATABASE_URL cannot be used: ${(err as Error).message}`);
      }
      throw err;
    } finally {
      await close();
    }
  },
};
