/**
 * What both fencing tests share: a workflow whose first step runs long enough to be cut off
 * in, waiting for another worker to take the run over, and the check of the ledger after the
 * cut-off worker came back.
 */
import { expect } from 'vitest';
import type { Knex } from '../../engine/db/knex.ts';
import { poll } from './poll.ts';

/** WF-922: a step of `ms` milliseconds, then one more. */
export const fencingWorkflow = (ms: number): string => `apiVersion: atlas/v1
kind: Workflow
id: WF-922
trigger: { type: manual }
steps:
  - id: slow
    uses: core.sleep
    with: { ms: ${ms} }
    retry: { maxAttempts: 3, backoff: { initial: 10ms } }
  - id: after
    uses: core.set
    with: { value: done }
`;

/** The worker running the run's first step, once it started. */
export async function firstStepWorker(db: Knex, runId: string): Promise<string> {
  const row = await poll(
    () =>
      db('step_runs')
        .where({ run_id: runId, step_id: 'slow', status: 'running' })
        .first<{ worker: string } | undefined>(),
    30_000,
  );
  return row.worker;
}

/** Waits until another worker than `stale` claimed the run (a newer lease epoch). */
export async function waitForTakeover(db: Knex, runId: string, stale: string): Promise<void> {
  await poll(async () => {
    const row = await db('workflow_runs').where({ id: runId }).first();
    return row.lease_owner && row.lease_owner !== stale && row.lease_epoch >= 2 ? row : undefined;
  }, 60_000);
}

/**
 * The stale worker's only row is the attempt it started before it was cut off, recorded lost
 * by the new owner; every later attempt is the new owner's.
 */
export async function expectOnlyNewOwnerWrote(db: Knex, runId: string, stale: string): Promise<void> {
  const rows = await db('step_runs')
    .where({ run_id: runId })
    .orderBy('id')
    .select<Array<{ step_id: string; worker: string; status: string; error: { code?: string } | null }>>();
  const byStale = rows.filter((r) => r.worker === stale);
  expect(byStale).toHaveLength(1);
  expect(byStale[0]).toMatchObject({ step_id: 'slow', status: 'failed' });
  expect(byStale[0]!.error?.code).toBe('worker_lost');
  const after = rows.filter((r) => r.step_id === 'after');
  expect(after).toHaveLength(1);
  expect(after[0]!.worker).not.toBe(stale);
}
