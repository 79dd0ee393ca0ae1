/**
 * Fairness between tenants, measured: with `backlog` runs of one tenant queued and a worker
 * busy with them, how long another tenant's run waits to start. Shared by
 * `test/runtime/fairness.test.ts` (2,500 runs) and `bench/fairness.ts` (10,000).
 */
import type { Knex } from 'knex';
import type { TestEngine } from '../helpers/engine.ts';
import { waitFor } from '../helpers/poll.ts';

/** A workflow of one step that takes `ms` inside the worker. */
export const busyWorkflow = (id: string, ms: number) => `apiVersion: atlas/v1
kind: Workflow
id: ${id}
trigger: { type: manual }
steps:
  - id: work
    uses: core.sleep
    with: { ms: ${ms} }
`;

/** Triggers `n` runs, 250 callers at a time; their ids. */
export async function triggerMany(t: TestEngine, tenantId: string, workflowId: string, n: number) {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 250) {
    const batch = Array.from({ length: Math.min(250, n - i) }, () =>
      t.runtime.trigger({ tenantId, workflowId, input: {} }),
    );
    for (const { run } of await Promise.all(batch)) ids.push(run.id);
  }
  return ids;
}

export async function countRuns(db: Knex, where: Record<string, unknown>): Promise<number> {
  const [row] = await db('workflow_runs').where(where).count<Array<{ n: string }>>({ n: '*' });
  return Number(row?.n);
}

export interface BacklogFigures {
  /** From the trigger of the quiet tenant's run to its start. */
  waitedMs: number;
  /** The busy tenant's runs still queued then, and how many of them were in the queue. */
  queued: number;
  undispatched: number;
}

/**
 * Queues `backlog` runs of `busy` (a limit so high it never holds them back: every one is in
 * the queue), waits until the worker is on them, then triggers one run of `quiet`.
 */
export async function startBehindBacklog(
  t: TestEngine,
  db: Knex,
  opts: { busy: string; quiet: string; workflowId: string; backlog: number },
): Promise<BacklogFigures> {
  await db('tenants')
    .where({ id: opts.busy })
    .update({ settings: JSON.stringify({ limits: { runsInFlight: 1_000_000 } }) });
  await triggerMany(t, opts.busy, opts.workflowId, opts.backlog);
  await waitFor(async () => (await countRuns(db, { tenant_id: opts.busy, status: 'running' })) > 0, 60_000);
  const asked = Date.now();
  const { run } = await t.runtime.trigger({ tenantId: opts.quiet, workflowId: opts.workflowId, input: {} });
  await waitFor(async () => {
    const row = await db('workflow_runs').where({ id: run.id }).first('started_at');
    return row?.started_at != null;
  }, 60_000);
  const waitedMs = Date.now() - asked;
  return {
    waitedMs,
    queued: await countRuns(db, { tenant_id: opts.busy, status: 'queued' }),
    undispatched: await countRuns(db, { tenant_id: opts.busy, dispatched: false }),
  };
}
