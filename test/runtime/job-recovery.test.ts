import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { poll } from '../helpers/poll.ts';

describe('a typed job whose worker stopped mid-attempt', () => {
  const database = useTestDatabase();
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine(database, { dirs: ['manifests'] });
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('records the lost attempt as a complete worker_lost failure and runs the next one', async () => {
    const job = await engine.runtime.enqueueJob({
      tenantId: 'acme',
      type: 'WEBHOOK_SEND',
      payload: { url: 'http://10.0.0.1/hook', secret: 'HOOK_SECRET', type: 'ping', data: {} },
    });
    // A worker took attempt 1 and died with it in flight: the job is running, the attempt open.
    await database.db('jobs').where({ id: job.id }).update({ status: 'running', attempts: 1 });
    await database.db('step_runs').insert({
      tenant_id: 'acme',
      job_id: job.id,
      step_id: 'WEBHOOK_SEND',
      uses: 'webhook.send',
      attempt: 1,
      max_attempts: job.maxAttempts,
      status: 'running',
      worker: 'a-worker-that-stopped',
    });
    await engine.startWorker();
    const done = await poll(async () => {
      const j = await engine.runtime.getJob('acme', job.id);
      return j && j.status !== 'queued' && j.status !== 'running' ? j : undefined;
    });
    expect(done.attempts).toBe(2);
    expect(done.steps.map((s) => [s.attempt, s.status])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
    ]);
    expect(done.steps[0]!.error).toEqual({
      kind: 'retryable',
      retryable: true,
      attempt: 1,
      code: 'worker_lost',
      message: 'the worker running this attempt stopped',
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });
});
