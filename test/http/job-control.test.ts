/**
 * `POST /v1/jobs/:id/retry` and `/cancel`, like runs: tenant-scoped, audited, 404 and 409
 * problems. A job that failed for good runs again; a queued, waiting or running job is
 * cancelled (a running attempt's signal fires).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeServer, json, startFake } from '../fakes/server.ts';
import { cliEnv, runCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { poll } from '../helpers/poll.ts';
import { type ApiEngine, startApiEngine } from '../secrets/engine.ts';

const SECRET = `whsec_${Buffer.from('job-control-signing-key-01234567').toString('base64')}`;

describe('job retry and cancel', () => {
  const database = useTestDatabase();
  let api: ApiEngine;
  let receiver: FakeServer;
  let endpointBack = false;
  let releaseHang: () => void = () => {};
  const hang = new Promise<void>((resolve) => {
    releaseHang = resolve;
  });

  beforeAll(async () => {
    receiver = await startFake(async (req) => {
      if (req.path === '/hang') {
        await hang;
        return { status: 204 };
      }
      if (req.path === '/down') return json(503, { error: 'down' });
      return endpointBack ? { status: 204 } : json(410, { error: 'gone' });
    });
    api = await startApiEngine(database, { env: { ATLAS_OUTBOUND_ALLOWLIST: '127.0.0.1' } });
    expect((await api.call('PUT', '/v1/secrets/HOOK_SECRET', { body: { value: SECRET } })).status).toBe(201);
  });
  afterAll(async () => {
    releaseHang();
    await api?.stop();
    await receiver?.close();
  });

  const enqueue = async (path: string) => {
    const payload = { url: `${receiver.url}${path}`, type: 'order.paid', data: {}, secret: 'HOOK_SECRET' };
    const res = await api.call('POST', '/v1/jobs', { body: { type: 'WEBHOOK_SEND', payload } });
    expect(res.status).toBe(202);
    return ((await res.json()) as { id: string }).id;
  };
  const jobRow = (id: string) => database.db('jobs').where({ id }).first();
  const until = (id: string, status: string) =>
    poll(async () => {
      const row = await jobRow(id);
      return row?.status === status ? row : undefined;
    });
  const queueJob = async (id: string) =>
    (await database.db.raw('select 1 from graphile_worker.jobs where key = ?', [`job:${id}`])).rows.length;
  const audited = (id: string) =>
    database.db('audit_log').where({ entity_id: id }).orderBy('id').pluck('action') as Promise<string[]>;

  it('retries a job that failed for good, with a fresh attempt budget, audited', async () => {
    const id = await enqueue('/gone');
    const failed = await until(id, 'failed');
    expect(failed.attempts).toBe(1);

    endpointBack = true;
    const res = await api.call('POST', `/v1/jobs/${id}/retry`);
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/v1/jobs/${id}`);
    expect(await res.json()).toMatchObject({ id, status: 'queued', attempts: 1 });
    const done = await until(id, 'succeeded');
    expect(done.attempts).toBe(2);
    expect(done.max_attempts).toBeGreaterThan(failed.max_attempts);
    const steps = await database.db('step_runs').where({ job_id: id }).orderBy('attempt').pluck('status');
    expect(steps).toEqual(['failed', 'succeeded']);
    expect(await audited(id)).toEqual(['jobs.enqueue', 'jobs.retry']);

    const again = await api.call('POST', `/v1/jobs/${id}/retry`);
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
    expect(((await again.json()) as { detail: string }).detail).toBe(
      `Job ${id} is succeeded; only a failed or cancelled job can be retried.`,
    );
  });

  it('cancels a job waiting for its next attempt, and removes it from the queue', async () => {
    const id = await enqueue('/down');
    await poll(async () => {
      const row = await jobRow(id);
      return row?.status === 'queued' && row.attempts === 1 ? row : undefined;
    });
    expect(await queueJob(id)).toBe(1);
    const res = await api.call('POST', `/v1/jobs/${id}/cancel`);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ id, status: 'cancelled' });
    expect(await queueJob(id)).toBe(0);
    expect((await jobRow(id)).last_error).toMatchObject({ code: 'cancelled' });
    const twice = await api.call('POST', `/v1/jobs/${id}/cancel`);
    expect(twice.status).toBe(409);
    expect(((await twice.json()) as { detail: string }).detail).toBe(`Job ${id} is already cancelled.`);
    // The refusal is audited too, as an error.
    const rows = await database
      .db('audit_log')
      .where({ entity_id: id })
      .orderBy('id')
      .select('action', 'status');
    expect(rows).toEqual([
      { action: 'jobs.enqueue', status: 202 },
      { action: 'jobs.cancel', status: 202 },
      { action: 'jobs.cancel', status: 409 },
    ]);
  });

  it('cancels a running job: its attempt is aborted and the job stays cancelled', async () => {
    const id = await enqueue('/hang');
    await until(id, 'running');
    await poll(async () =>
      (await database.db('step_runs').where({ job_id: id }).first()) ? true : undefined,
    );
    const res = await api.call('POST', `/v1/jobs/${id}/cancel`);
    expect(res.status).toBe(202);
    const attempt = await poll(async () => {
      const row = await database.db('step_runs').where({ job_id: id }).first();
      return row?.finished_at ? row : undefined;
    }, 5_000);
    expect(attempt.status).not.toBe('succeeded');
    expect((await jobRow(id)).status).toBe('cancelled');
  });

  it('retries and cancels from the CLI too, audited, with one sentence for what it refuses', async () => {
    endpointBack = false;
    const id = await enqueue('/gone');
    await until(id, 'failed');
    endpointBack = true;
    const env = cliEnv({
      DATABASE_URL: database.url,
      DIRECT_URL: database.directUrl,
      ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
    });
    const retried = await runCli(['jobs', 'retry', id], env);
    expect(retried.stderr).toBe('');
    expect(retried.stdout).toContain(`Retrying WEBHOOK_SEND job ${id} (queued).`);
    await until(id, 'succeeded');
    const refused = await runCli(['jobs', 'cancel', id], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(`atlas jobs: Job ${id} is already succeeded.`);
    const unknown = await runCli(['jobs', 'cancel', '00000000-0000-4000-8000-000000000000'], env);
    expect(unknown.stderr.trim()).toBe('atlas jobs: there is no job 00000000-0000-4000-8000-000000000000');
    expect(await audited(id)).toEqual(['jobs.enqueue', 'jobs.retry']);
  });

  it('answers 404 for another tenant and for an unknown job', async () => {
    const id = await enqueue('/down');
    for (const action of ['retry', 'cancel']) {
      const other = await api.call('POST', `/v1/jobs/${id}/${action}`, { tenant: 'globex' });
      expect(other.status).toBe(404);
      const unknown = await api.call('POST', `/v1/jobs/00000000-0000-4000-8000-000000000000/${action}`);
      expect(unknown.status).toBe(404);
    }
    expect((await jobRow(id)).status).not.toBe('cancelled');
  });
});
