/**
 * Statements that lock several runs lock them in id order, so two of them never deadlock:
 * a process's heartbeat renews the leases of exactly the runs its checkpoints write.
 * A deadlock costs PostgreSQL's `deadlock_timeout` (1 s) and fails one of the two.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { beat } from '../../engine/db/heartbeats.ts';
import { writeCheckpoints } from '../../engine/db/ledger-writer.ts';
import { useTestDatabase } from '../helpers/db.ts';

const database = useTestDatabase();
const OWNER = 'lock-order-process';

async function leasedRuns(): Promise<[string, string]> {
  const db = database.db;
  await db('tenants').insert({ id: 'lock', name: 'Lock' }).onConflict('id').ignore();
  await db('manifest_versions')
    .insert({ hash: 'lock-order', kind: 'Workflow', manifest_id: 'WF-1', content: {} })
    .onConflict('hash')
    .ignore();
  const [low, high] = [randomUUID(), randomUUID()].sort() as [string, string];
  // The higher id first: it is stored first, so a scan in storage order meets it first.
  for (const id of [high, low]) {
    await db('workflow_runs').insert({
      id,
      tenant_id: 'lock',
      workflow_id: 'WF-1',
      manifest_hash: 'lock-order',
      status: 'running',
      input: {},
      trigger: { type: 'manual' },
      dispatched: true,
      lease_owner: OWNER,
      lease_expires_at: db.raw("now() + interval '30 seconds'"),
      lease_epoch: 1,
    });
  }
  return [low, high];
}

const checkpoint = (runId: string) => ({
  tenantId: 'lock',
  runId,
  runAttempt: 1,
  leaseEpoch: 1,
  worker: OWNER,
  finished: [],
  started: [{ stepId: 'one', uses: 'core.noop', attempt: 1, maxAttempts: 1, status: 'succeeded' as const }],
});

describe('run lock order', () => {
  it('a heartbeat and a checkpoint of the same runs do not deadlock', async () => {
    const db = database.db;
    const [low, high] = await leasedRuns();
    // Holds the lower run: the checkpoint (id order) waits for it holding nothing, the beat
    // renews the higher one first unless it also goes in id order.
    const holder = await db.transaction();
    await holder('workflow_runs').where({ id: low }).forNoKeyUpdate();
    const written = writeCheckpoints(db, [checkpoint(low), checkpoint(high)]);
    await new Promise((r) => setTimeout(r, 200));
    const beaten = beat(db, {
      processId: OWNER,
      queueWorkerIds: [],
      hostname: 'test',
      pid: 1,
      leaseMs: 30_000,
      runIds: [high, low],
    });
    await new Promise((r) => setTimeout(r, 300));
    await holder.commit();
    const [checkpoints, beat_] = await Promise.allSettled([written, beaten]);
    expect(beat_.status).toBe('fulfilled');
    expect(checkpoints.status).toBe('fulfilled');
    const steps = await db('step_runs').whereIn('run_id', [low, high]).select('run_id');
    expect(steps).toHaveLength(2);
  });
});
