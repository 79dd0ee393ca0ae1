import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAction, defineConnector } from '../../engine/connector-sdk/index.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { poll } from '../helpers/poll.ts';

describe('typed jobs', () => {
  const database = useTestDatabase();
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine(database, { dirs: ['manifests'] });
    await engine.startWorker();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('rejects a type that is not a job type, and a payload that does not fit its schema', async () => {
    await expect(
      engine.runtime.enqueueJob({ tenantId: 'acme', type: 'FAX_SEND', payload: {} }),
    ).rejects.toMatchObject({
      code: 'unknown_job_type',
      message: expect.stringContaining('EMAIL_SEND'),
    });
    await expect(
      engine.runtime.enqueueJob({ tenantId: 'acme', type: 'WEBHOOK_SEND', payload: { url: 42 } }),
    ).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('runs a job through its action, keeps its attempts, and honours an idempotency key', async () => {
    // No signing secret is set for this tenant: the delivery fails as a fatal, recorded error.
    const job = await engine.runtime.enqueueJob({
      tenantId: 'acme',
      type: 'WEBHOOK_SEND',
      payload: { url: 'http://10.0.0.1/hook', secret: 'HOOK_SECRET', type: 'ping', data: {} },
      idempotencyKey: 'ping-1',
    });
    expect(job).toMatchObject({
      status: 'queued',
      type: 'WEBHOOK_SEND',
      uses: 'webhook.send',
      created: true,
    });
    const again = await engine.runtime.enqueueJob({
      tenantId: 'acme',
      type: 'WEBHOOK_SEND',
      payload: { url: 'http://10.0.0.1/hook', secret: 'HOOK_SECRET', type: 'ping', data: {} },
      idempotencyKey: 'ping-1',
    });
    expect(again).toMatchObject({ id: job.id, created: false });
    const done = await poll(async () => {
      const j = await engine.runtime.getJob('acme', job.id);
      return j && j.status !== 'queued' && j.status !== 'running' ? j : undefined;
    });
    expect(done.status).toBe('failed');
    expect(done.attempts).toBe(1);
    expect(done.steps).toHaveLength(1);
    expect(done.steps[0]).toMatchObject({ id: 'WEBHOOK_SEND', status: 'failed', attempt: 1 });
    expect(done.lastError).toMatchObject({ kind: 'fatal' });
    expect(await engine.runtime.getJob('globex', job.id)).toBeUndefined();
  });
});

describe('a job type no connector serves', () => {
  it('is a clear error, not a silent success', async () => {
    const { makeConnectorRegistry } = await import('../../engine/connector-sdk/index.ts');
    const { jobAction } = await import('../../engine/runtime/jobs.ts');
    const lonely = defineConnector({
      id: 'lonely',
      description: 'one action, no job type',
      auth: { type: 'none' },
      actions: [
        defineAction({ id: 'noop', description: 'nothing', input: {}, output: {}, run: async () => ({}) }),
      ],
    });
    const core = { deps: { connectors: makeConnectorRegistry([lonely]) } };
    expect(() => jobAction(core as never, 'KB_INGEST')).toThrow('No connector action serves KB_INGEST jobs');
  });
});
