/**
 * The engine's hot statements on runs reach them through the primary key, however many runs
 * the table holds: a claim and a checkpoint for a batch of runs must not scan the table or
 * walk an index by tenant. Checked on PostgreSQL's plan (EXPLAIN) over a table of finished
 * runs of one tenant, as a busy tenant's table is.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkpointQuery } from '../../engine/db/ledger-writer.ts';
import { claimQuery } from '../../engine/db/run-claims.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { runRow } from '../helpers/rows.ts';

const database = useTestDatabase();
const RUNS = 3_000;
let batch: string[] = [];

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** Every node of the plan that reads `workflow_runs` itself (a scan or an index scan). */
async function runScans(sql: string, bindings: unknown[]): Promise<string[]> {
  const { rows } = await database.db.raw(`explain (format json) ${sql}`, bindings as never[]);
  const out: string[] = [];
  const walk = (node: PlanNode) => {
    const reads = node['Relation Name'] === 'workflow_runs' && node['Node Type'] !== 'ModifyTable';
    if (reads) out.push(`${node['Node Type']} ${node['Index Name'] ?? ''}`.trim());
    for (const child of node.Plans ?? []) walk(child);
  };
  walk((rows[0]['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]!.Plan);
  return out;
}

/** A bitmap heap scan is as good as the bitmap index scans under it, which are listed too. */
const viaPrimaryKey = (scan: string) =>
  /^(Index Scan|Index Only Scan|Bitmap Index Scan) workflow_runs_pkey$/.test(scan) ||
  scan === 'Bitmap Heap Scan';

beforeAll(async () => {
  const db = database.db;
  await db('tenants').insert({ id: 'busy', name: 'Busy' });
  await db('manifest_versions').insert({ hash: 'plans', kind: 'Workflow', manifest_id: 'WF-1', content: {} });
  await db.raw(
    `insert into workflow_runs (id, tenant_id, workflow_id, manifest_hash, status, input, trigger, dispatched,
                                started_at, finished_at)
     select gen_random_uuid(), 'busy', 'WF-1', 'plans', 'succeeded', '{}', '{"type":"manual"}', true, now(), now()
       from generate_series(1, ?)`,
    [RUNS],
  );
  batch = Array.from({ length: 40 }, () => randomUUID());
  await db('workflow_runs').insert(batch.map((id) => runRow(id, 'busy', 'plans')));
  await db.raw('analyze workflow_runs');
});

describe('plans of the run statements', () => {
  it('a claim of a batch of runs reads them through the primary key', async () => {
    const { sql, bindings } = claimQuery(
      batch.map((id) => ({ id, tenant_id: 'busy' })),
      'p',
      30_000,
    );
    const scans = await runScans(sql, bindings);
    expect(scans.length).toBeGreaterThan(0);
    expect(scans.filter((s) => !viaPrimaryKey(s))).toEqual([]);
  });

  it('a checkpoint ending a batch of runs reads them through the primary key', async () => {
    const items = batch.map((runId) => ({
      tenantId: 'busy',
      runId,
      runAttempt: 1,
      leaseEpoch: 1,
      worker: 'p',
      finished: [],
      started: [
        { stepId: 'one', uses: 'core.noop', attempt: 1, maxAttempts: 1, status: 'succeeded' as const },
      ],
      end: { status: 'succeeded' as const, error: null },
    }));
    const { sql, bindings } = checkpointQuery(items);
    const scans = await runScans(sql, bindings);
    expect(scans.length).toBeGreaterThan(0);
    expect(scans.filter((s) => !viaPrimaryKey(s))).toEqual([]);
  });
});
