/**
 * A step attempt belongs to a run or to a typed job: the attempts of a run add no entry to
 * the jobs' index of `step_runs` (nor a job's to the runs'), and both lookups still use their
 * index. Each write of an attempt costs one index entry fewer.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeCheckpoints } from '../../engine/db/ledger-writer.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { runRow } from '../helpers/rows.ts';

const database = useTestDatabase();
const runId = randomUUID();

/** The attempts a lookup finds (`column = value`, as the engine's queries ask), through `index`. */
async function lookup(index: string, column: 'run_id' | 'job_id', value: string): Promise<number> {
  return database.db.transaction(async (trx) => {
    await trx.raw('set local enable_seqscan = off');
    const sql = `select count(*)::int as n from step_runs where ${column} = ?`;
    const { rows } = await trx.raw(`explain (format json) ${sql}`, [value]);
    expect(JSON.stringify(rows[0]['QUERY PLAN'])).toContain(`"Index Name":"${index}"`);
    const { rows: counted } = await trx.raw(sql, [value]);
    return counted[0].n as number;
  });
}

beforeAll(async () => {
  const db = database.db;
  await db('tenants').insert({ id: 'idx', name: 'Idx' });
  await db('manifest_versions').insert({ hash: 'idx', kind: 'Workflow', manifest_id: 'WF-1', content: {} });
  await db('workflow_runs').insert(runRow(runId, 'idx', 'idx'));
  const [outcome] = await writeCheckpoints(db, [
    {
      tenantId: 'idx',
      runId,
      runAttempt: 1,
      leaseEpoch: 1,
      worker: 'p',
      finished: [],
      started: ['one', 'two', 'three'].map((stepId) => ({
        stepId,
        uses: 'core.noop',
        attempt: 1,
        maxAttempts: 1,
        status: 'succeeded' as const,
      })),
    },
  ]);
  expect(outcome!.fenced).toBe(false);
});

describe('step_runs indexes', () => {
  it("a run's attempts are not entries of the jobs' index", async () => {
    const { rows } = await database.db.raw(
      `select pg_relation_size('step_runs_job') as job, pg_relation_size('step_runs_run') as run`,
    );
    // A b-tree with no entry is its meta page alone; the runs' index has a leaf too.
    expect(Number(rows[0].job)).toBe(8192);
    expect(Number(rows[0].run)).toBeGreaterThan(8192);
  });

  it('the lookups by run and by job still use their index', async () => {
    expect(await lookup('step_runs_run', 'run_id', runId)).toBe(3);
    expect(await lookup('step_runs_job', 'job_id', randomUUID())).toBe(0);
  });
});
