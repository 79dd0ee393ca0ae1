/**
 * Hot statements run as database functions (engine/db/sql-functions.ts), created by
 * migrations from the texts their modules hold, so that each session plans them once. A
 * change to such a text needs a migration that recreates the function: this test fails
 * until there is one.
 */
import { describe, expect, it } from 'vitest';
import { INSERT_RUNS_FUNCTION } from '../../engine/db/run-inserts.ts';
import { createFunctionSql, type SqlFunction } from '../../engine/db/sql-functions.ts';
import { INSERT_EVENTS_FUNCTION } from '../../engine/db/webhook-events.ts';
import { useTestDatabase } from '../helpers/db.ts';

const database = useTestDatabase();

const FUNCTIONS: SqlFunction[] = [INSERT_RUNS_FUNCTION, INSERT_EVENTS_FUNCTION];

describe('statements kept as functions', () => {
  it.each(FUNCTIONS.map((f) => [f.name, f] as const))(
    '%s is what its module says (a changed statement needs a migration)',
    async (name, fn) => {
      const { rows } = await database.db.raw<{ rows: Array<{ prosrc: string }> }>(
        'select prosrc from pg_proc where proname = ?',
        [name],
      );
      const body = /\$fn\$([\s\S]*)\$fn\$/.exec(createFunctionSql(fn))?.[1];
      expect(rows.map((r) => r.prosrc)).toEqual([body]);
    },
  );
});
