/**
 * Hot statements run as database functions (engine/db/sql-functions.ts), created by
 * migrations from the texts their modules hold, so that each session plans them once. A
 * change to such a text (or to the queue job the dispatch adds, `addRunJobsSql`) needs a
 * migration that recreates the function: this test fails until there is one.
 */
import { describe, expect, it } from 'vitest';
import { INSERT_RUNS_FUNCTION } from '../../engine/db/run-inserts.ts';
import { DISPATCH_FUNCTION, dispatchRuns } from '../../engine/db/run-outbox.ts';
import { createFunctionSql, type SqlFunction } from '../../engine/db/sql-functions.ts';
import { INSERT_EVENTS_FUNCTION } from '../../engine/db/webhook-events.ts';
import { useTestDatabase } from '../helpers/db.ts';

const database = useTestDatabase();

const FUNCTIONS: SqlFunction[] = [DISPATCH_FUNCTION, INSERT_RUNS_FUNCTION, INSERT_EVENTS_FUNCTION];

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

  it("hands a tenant's committed runs to the queue, up to its limit, and says what it held back", async () => {
    const db = database.db;
    await db('tenants').insert({ id: 'outbox', name: 'Outbox', settings: { limits: { runsInFlight: 2 } } });
    await db('manifest_versions')
      .insert({ hash: 'h-outbox', kind: 'Workflow', manifest_id: 'WF-OUTBOX', content: {} })
      .onConflict('hash')
      .ignore();
    await db('workflow_runs').insert(
      [1, 2, 3].map((n) => ({
        id: `00000000-0000-4000-8000-00000000000${n}`,
        tenant_id: 'outbox',
        workflow_id: 'WF-OUTBOX',
        manifest_hash: 'h-outbox',
        status: 'queued',
        input: {},
        trigger: {},
        dispatched: false,
      })),
    );
    expect(await dispatchRuns(db, 500, 200)).toEqual({ moved: 2, held: true });
    const jobs = await db.raw<{ rows: Array<{ key: string; priority: number }> }>(
      "select key, priority from graphile_worker.jobs where key like 'run:%' order by priority",
    );
    expect(jobs.rows.map((j) => j.priority)).toEqual([0, 1]);
    expect(await dispatchRuns(db, 500, 200)).toEqual({ moved: 0, held: true });
  });
});
