/**
 * A worker killed with SIGKILL mid-step: a surviving worker takes its run within 60 s
 * (heartbeats + force-unlock), the run completes, and the ledger shows the lost attempt.
 * Real processes: two `atlas worker`s on this file's database.
 */
import { describe, expect, it } from 'vitest';
import { poll } from '../helpers/poll.ts';
import { makeRuntimeForTest } from '../helpers/runtime.ts';
import { useWorkerProcesses } from '../helpers/workers.ts';

const WORKFLOW = `apiVersion: atlas/v1
kind: Workflow
id: WF-920
trigger: { type: manual }
steps:
  - id: before
    uses: core.set
    with: { value: ready }
  - id: slow
    uses: core.sleep
    with: { ms: 4000 }
    retry: { maxAttempts: 3, backoff: { initial: 10ms } }
  - id: after
    uses: core.set
    with: { value: "{{ steps.before.output }}" }
`;

describe('crash recovery with real worker processes', () => {
  const workers = useWorkerProcesses(WORKFLOW);
  const { database } = workers;

  it('finishes the run on the surviving worker and records the lost attempt', async () => {
    const env = workers.env();
    for (let i = 0; i < 2; i++) await workers.start(env);
    const { runtime, close } = await makeRuntimeForTest(database, workers.dir);
    try {
      const { run } = await runtime.trigger({ tenantId: 'acme', workflowId: 'WF-920' });
      const running = await poll(async () => {
        const row = await database
          .db('step_runs')
          .where({ run_id: run.id, step_id: 'slow', status: 'running' })
          .first();
        return row as { worker: string } | undefined;
      }, 30_000);
      const pid = Number(running.worker.split(':')[1]);
      const victim = workers.workers.find((w) => w.child.pid === pid);
      expect(victim, `worker ${running.worker} is one of ours`).toBeDefined();
      const killedAt = Date.now();
      await victim!.stop('SIGKILL');

      const done = (await runtime.waitForRun('acme', run.id, 60_000))!;
      expect(done.status).toBe('succeeded');
      expect(Date.now() - killedAt).toBeLessThan(60_000);
      const slow = done.steps.find((s) => s.id === 'slow')!;
      expect(slow.attempts.map((a) => a.status)).toEqual(['failed', 'succeeded']);
      expect(slow.attempts[0]!.error).toMatchObject({ code: 'worker_lost', kind: 'retryable' });
      expect(done.steps.find((s) => s.id === 'before')!.attempts).toHaveLength(1);
      expect(done.steps.find((s) => s.id === 'after')!.attempts[0]!.output).toBe('ready');
    } finally {
      await close();
    }
  }, 120_000);
});
