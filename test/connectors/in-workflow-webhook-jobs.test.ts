/**
 * `WEBHOOK_SEND` jobs through `POST /v1/jobs`: a failing delivery is rescheduled on the
 * webhook connector's own schedule (5 s, then 5 min, ±20 %), in the ledger and in the queue,
 * with the same `webhook-id` on every attempt; a 410 fails the job at once as endpoint_gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_RETRY_JITTER, WEBHOOK_RETRY_SCHEDULE_MS } from '../../connectors/webhook/index.ts';
import { type FakeServer, json, startFake } from '../fakes/server.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { poll } from '../helpers/poll.ts';
import { type ApiEngine, startApiEngine } from '../secrets/engine.ts';

const SECRET = `whsec_${Buffer.from('webhook-jobs-signing-key-0123456').toString('base64')}`;

interface AttemptRow {
  attempt: number;
  status: string;
  error: { code?: string; kind?: string } | null;
  retry_at: Date | null;
  finished_at: Date | null;
}

/** The delay the schedule allows after attempt `n` (1-based) failed, jitter included. */
function scheduled(n: number): [number, number] {
  const base = WEBHOOK_RETRY_SCHEDULE_MS[n - 1]!;
  return [base * (1 - WEBHOOK_RETRY_JITTER), base * (1 + WEBHOOK_RETRY_JITTER)];
}

describe('WEBHOOK_SEND jobs', () => {
  const database = useTestDatabase();
  let api: ApiEngine;
  let receiver: FakeServer;
  beforeAll(async () => {
    const flaky = [json(500, { error: 'down' }), json(503, { error: 'still down' })];
    receiver = await startFake((req) =>
      req.path === '/gone' ? json(410, { error: 'gone' }) : (flaky.shift() ?? { status: 204 }),
    );
    api = await startApiEngine(database, { env: { ATLAS_OUTBOUND_ALLOWLIST: '127.0.0.1' } });
    expect((await api.call('PUT', '/v1/secrets/HOOK_SECRET', { body: { value: SECRET } })).status).toBe(201);
  });
  afterAll(async () => {
    await api?.stop();
    await receiver?.close();
  });

  const enqueue = async (path: string) => {
    const payload = {
      url: `${receiver.url}${path}`,
      type: 'order.paid',
      data: { id: 7 },
      secret: 'HOOK_SECRET',
    };
    const res = await api.call('POST', '/v1/jobs', { body: { type: 'WEBHOOK_SEND', payload } });
    expect(res.status).toBe(202);
    return ((await res.json()) as { id: string }).id;
  };
  const attempts = (jobId: string) =>
    database.db('step_runs').where({ job_id: jobId }).orderBy('attempt').select<AttemptRow[]>('*');
  const finishedAttempts = (jobId: string, n: number) =>
    poll(async () => {
      const rows = await attempts(jobId);
      return rows.length === n && rows.every((r) => r.finished_at) ? rows : undefined;
    });
  const jobRow = (jobId: string) => database.db('jobs').where({ id: jobId }).first();
  const queuedAt = async (jobId: string) =>
    (
      await database.db.raw<{ rows: Array<{ run_at: Date }> }>(
        'select run_at from graphile_worker.jobs where key = ?',
        [`job:${jobId}`],
      )
    ).rows[0]?.run_at;

  it('reschedules a failing delivery per the schedule, in the ledger and in the queue', async () => {
    const jobId = await enqueue('/flaky');
    for (const n of [1, 2]) {
      const rows = await finishedAttempts(jobId, n);
      const last = rows[n - 1]!;
      expect(last).toMatchObject({ attempt: n, status: 'failed', error: { kind: 'retryable' } });
      const delay = last.retry_at!.getTime() - last.finished_at!.getTime();
      const [min, max] = scheduled(n);
      expect(delay).toBeGreaterThanOrEqual(min - 50);
      expect(delay).toBeLessThanOrEqual(max);
      const job = await jobRow(jobId);
      expect(job).toMatchObject({ status: 'queued', attempts: n, max_attempts: 8 });
      expect(job.run_at.getTime()).toBe(last.retry_at!.getTime());
      expect((await queuedAt(jobId))?.getTime()).toBe(last.retry_at!.getTime());
    }
    const ids = receiver.requests.filter((r) => r.path === '/flaky').map((r) => r.header('webhook-id'));
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBe(ids[0]);
  }, 20_000);

  it('fails at once on 410 with endpoint_gone', async () => {
    const jobId = await enqueue('/gone');
    const [only] = await finishedAttempts(jobId, 1);
    expect(only).toMatchObject({ status: 'failed', retry_at: null, error: { code: 'endpoint_gone' } });
    const job = await (await api.call('GET', `/v1/jobs/${jobId}`)).json();
    expect(job).toMatchObject({ status: 'failed', attempts: 1, lastError: { code: 'endpoint_gone' } });
    expect(await queuedAt(jobId)).toBeUndefined();
  });
});
