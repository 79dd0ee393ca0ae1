/** The run outbox's dispatch: a tenant's runs go to the queue up to its limit of runs in flight. */
import { describe, expect, it } from 'vitest';
import { dispatchRuns } from '../../engine/db/run-outbox.ts';
import { useTestDatabase } from '../helpers/db.ts';

const database = useTestDatabase();

describe('the run outbox', () => {
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
