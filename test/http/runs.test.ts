import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { type Api, problemOf, startApi } from './harness.ts';

const t = useTestDatabase();
let api: Api;
let acme: string;
let globex: string;

interface Run {
  id: string;
  workflowId: string;
  status: string;
}

beforeAll(async () => {
  api = await startApi(t.db);
  await t.db('tenants').insert([
    { id: 'acme', name: 'Acme' },
    { id: 'globex', name: 'Globex' },
  ]);
  acme = await api.token({ tenants: ['acme'], sub: 'alice' });
  globex = await api.token({ tenants: ['globex'], sub: 'gus' });
});
afterAll(() => api?.close());

async function trigger(
  input: unknown = { name: 'Ada' },
  headers: Record<string, string> = {},
): Promise<Response> {
  return api.call('POST', '/v1/workflows/WF-001/runs', {
    token: acme,
    tenant: 'acme',
    body: { input },
    headers,
  });
}

describe('workflows', () => {
  it('lists the catalogue with next schedule times and this tenant’s enablement', async () => {
    const res = await api.call('GET', '/v1/workflows', { token: acme, tenant: 'acme' });
    const { items } = (await res.json()) as {
      items: Array<{ id: string; enabled: boolean; nextRuns: string[] }>;
    };
    expect(items.map((w) => [w.id, w.enabled])).toEqual([
      ['WF-001', false],
      ['WF-002', false],
    ]);
    const schedule = items[1]!.nextRuns;
    expect(schedule).toHaveLength(3);
    for (const at of schedule) expect(new Date(at).getUTCMinutes() % 15).toBe(0);
  });

  it('enables a workflow with tenant config for one tenant only, and audits it', async () => {
    const put = await api.call('PUT', '/v1/workflows/WF-001/enabled', {
      token: acme,
      tenant: 'acme',
      body: { enabled: true, config: { channel: 'ops' } },
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ enabled: true, config: { channel: 'ops' } });
    const mine = await (
      await api.call('GET', '/v1/workflows/WF-001', { token: acme, tenant: 'acme' })
    ).json();
    expect(mine).toMatchObject({
      id: 'WF-001',
      enabled: true,
      config: { channel: 'ops' },
      manifest: { kind: 'Workflow' },
    });
    const theirs = await (
      await api.call('GET', '/v1/workflows/WF-001', { token: globex, tenant: 'globex' })
    ).json();
    expect(theirs).toMatchObject({ enabled: false, config: {} });
    const audit = await t.db('audit_log').where({ action: 'workflows.set_enabled' });
    expect(audit).toMatchObject([
      { tenant_id: 'acme', actor: 'alice', entity_id: 'WF-001', status: 200, result: 'ok' },
    ]);
  });

  it('answers 404 for an unknown workflow and 422 for a wrong body', async () => {
    expect((await api.call('GET', '/v1/workflows/WF-404', { token: acme, tenant: 'acme' })).status).toBe(404);
    const put = await api.call('PUT', '/v1/workflows/WF-404/enabled', {
      token: acme,
      tenant: 'acme',
      body: { enabled: true },
    });
    expect(put.status).toBe(404);
    const wrong = await api.call('PUT', '/v1/workflows/WF-001/enabled', {
      token: acme,
      tenant: 'acme',
      body: { enabled: 'yes' },
    });
    expect((await problemOf(wrong)).status).toBe(422);
  });

  it('gives the next run of a scheduled workflow only to the tenants it runs for', async () => {
    type Item = { id: string; nextRun: string | null; nextRuns: string[] };
    const list = async (token: string, tenant: string) =>
      ((await (await api.call('GET', '/v1/workflows', { token, tenant })).json()) as { items: Item[] }).items;
    const before = await list(acme, 'acme');
    expect(before.map((w) => [w.id, w.nextRun])).toEqual([
      ['WF-001', null],
      ['WF-002', null],
    ]);
    const put = await api.call('PUT', '/v1/workflows/WF-002/enabled', {
      token: acme,
      tenant: 'acme',
      body: { enabled: true },
    });
    expect(put.status).toBe(200);
    const after = (await list(acme, 'acme')).find((w) => w.id === 'WF-002')!;
    expect(after.nextRun).toBe(after.nextRuns[0]);
    expect(new Date(after.nextRun!).getTime()).toBeGreaterThan(Date.now());
    expect(new Date(after.nextRun!).getTime() - Date.now()).toBeLessThanOrEqual(15 * 60_000);
    expect((await list(globex, 'globex')).find((w) => w.id === 'WF-002')!.nextRun).toBeNull();
    await api.call('PUT', '/v1/workflows/WF-002/enabled', {
      token: acme,
      tenant: 'acme',
      body: { enabled: false },
    });
  });
});

describe('runs', () => {
  it('starts a run (202, Location) and audits it in the same transaction', async () => {
    const res = await trigger();
    expect(res.status).toBe(202);
    const run = (await res.json()) as Run;
    expect(res.headers.get('location')).toBe(`/v1/runs/${run.id}`);
    expect(run).toMatchObject({ workflowId: 'WF-001', status: 'queued' });
    const [entry] = await t.db('audit_log').where({ action: 'runs.trigger', entity_id: run.id });
    expect(entry).toMatchObject({
      tenant_id: 'acme',
      actor: 'alice',
      status: 202,
      result: 'ok',
      entity_type: 'run',
    });
    expect(entry.summary).toMatchObject({ body: { input: { name: 'Ada' } }, workflowId: 'WF-001' });
  });

  it('checks the input against the workflow’s schema (422) and audits the refusal', async () => {
    const p = await problemOf(await trigger({ name: '' }));
    expect(p.status).toBe(422);
    expect(p.errors).toBeDefined();
    const refusals = await t.db('audit_log').where({ action: 'runs.trigger', result: 'error' });
    expect(refusals).toMatchObject([{ status: 422, tenant_id: 'acme' }]);
  });

  it('honours Idempotency-Key: the same run again, marked as replayed', async () => {
    const first = await trigger({ name: 'Ada' }, { 'idempotency-key': 'order-42' });
    const second = await trigger({ name: 'Ada' }, { 'idempotency-key': 'order-42' });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(((await second.json()) as Run).id).toBe(((await first.json()) as Run).id);
    const bad = await trigger({ name: 'Ada' }, { 'idempotency-key': 'x'.repeat(201) });
    expect((await problemOf(bad)).status).toBe(400);
  });

  it('starts one run for one Idempotency-Key sent by concurrent requests that share a transaction', async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => trigger({ name: 'Ada' }, { 'idempotency-key': 'order-77' })),
    );
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202, 202]);
    const ids = await Promise.all(answers.map(async (a) => ((await a.json()) as Run).id));
    expect(new Set(ids).size).toBe(1);
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(5);
    const runs = await t.db('workflow_runs').where({ tenant_id: 'acme', idempotency_key: 'order-77' });
    expect(runs).toHaveLength(1);
    const audited = await t.db('audit_log').where({ action: 'runs.trigger', entity_id: ids[0] });
    expect(audited).toHaveLength(6);
  });

  it('answers 404 for an unknown workflow', async () => {
    const res = await api.call('POST', '/v1/workflows/WF-404/runs', {
      token: acme,
      tenant: 'acme',
      body: {},
    });
    expect((await problemOf(res)).status).toBe(404);
  });

  it('reads a run with its steps, and lists runs with filters and a cursor', async () => {
    const run = (await (await trigger({ name: 'Bo' })).json()) as Run;
    const detail = await (
      await api.call('GET', `/v1/runs/${run.id}`, { token: acme, tenant: 'acme' })
    ).json();
    expect(detail).toMatchObject({
      id: run.id,
      input: { name: 'Bo' },
      steps: [{ id: 'greeting', status: 'pending' }],
    });

    const all = await (
      await api.call('GET', '/v1/runs?workflowId=WF-001&status=queued', { token: acme, tenant: 'acme' })
    ).json();
    expect((all as { items: Run[] }).items.length).toBeGreaterThanOrEqual(3);
    const page1 = (await (
      await api.call('GET', '/v1/runs?limit=1', { token: acme, tenant: 'acme' })
    ).json()) as {
      items: Run[];
      nextCursor: string;
    };
    expect(page1.items[0]?.id).toBe(run.id);
    const page2 = (await (
      await api.call('GET', `/v1/runs?limit=1&cursor=${page1.nextCursor}`, { token: acme, tenant: 'acme' })
    ).json()) as { items: Run[] };
    expect(page2.items[0]?.id).not.toBe(run.id);

    const since = new Date(Date.now() + 60_000).toISOString();
    const none = await (
      await api.call('GET', `/v1/runs?since=${since}`, { token: acme, tenant: 'acme' })
    ).json();
    expect(none).toEqual({ items: [] });
    for (const query of [
      'limit=0',
      'limit=abc',
      'status=lost',
      'since=yesterday',
      'unknown=1',
      'cursor=zzz',
    ]) {
      const res = await api.call('GET', `/v1/runs?${query}`, { token: acme, tenant: 'acme' });
      expect([query, res.status]).toEqual([query, 400]);
    }
  });

  it('cancels a queued run, refuses to retry it (409), and retries a failed one', async () => {
    const run = (await (await trigger({ name: 'Cy' })).json()) as Run;
    const retryQueued = await api.call('POST', `/v1/runs/${run.id}/retry`, { token: acme, tenant: 'acme' });
    expect((await problemOf(retryQueued)).status).toBe(409);
    const cancel = await api.call('POST', `/v1/runs/${run.id}/cancel`, { token: acme, tenant: 'acme' });
    expect(cancel.status).toBe(202);
    expect(await cancel.json()).toMatchObject({ id: run.id, status: 'cancelled' });

    const failed = (await (await trigger({ name: 'Di' })).json()) as Run;
    await t
      .db('workflow_runs')
      .where({ id: failed.id })
      .update({ status: 'failed', finished_at: t.db.fn.now() });
    const retry = await api.call('POST', `/v1/runs/${failed.id}/retry`, { token: acme, tenant: 'acme' });
    expect(retry.status).toBe(202);
    const restart = await api.call('POST', `/v1/runs/${run.id}/restart`, { token: acme, tenant: 'acme' });
    expect(restart.status).toBe(202);
    const actions = await t.db('audit_log').where({ entity_id: run.id }).orderBy('id').pluck('action');
    expect(actions).toEqual(['runs.trigger', 'runs.retry', 'runs.cancel', 'runs.restart']);
  });
});

describe('jobs and agents', () => {
  it('enqueues a typed job (202, Location) and reads it back', async () => {
    const res = await api.call('POST', '/v1/jobs', {
      token: acme,
      tenant: 'acme',
      body: {
        type: 'WEBHOOK_SEND',
        payload: { url: 'https://example.com/hook', type: 'order.paid', data: {}, secret: 'hook' },
      },
    });
    expect(res.status).toBe(202);
    const job = (await res.json()) as { id: string };
    expect(res.headers.get('location')).toBe(`/v1/jobs/${job.id}`);
    const got = await api.call('GET', `/v1/jobs/${job.id}`, { token: acme, tenant: 'acme' });
    expect(await got.json()).toMatchObject({
      id: job.id,
      type: 'WEBHOOK_SEND',
      status: 'queued',
      attempts: 0,
    });
    const [entry] = await t.db('audit_log').where({ action: 'jobs.enqueue', entity_id: job.id });
    expect(entry).toMatchObject({ tenant_id: 'acme', status: 202 });
  });

  it('checks the job type and its payload (422)', async () => {
    const badType = await api.call('POST', '/v1/jobs', {
      token: acme,
      tenant: 'acme',
      body: { type: 'FAX_SEND', payload: {} },
    });
    expect((await problemOf(badType)).status).toBe(422);
    const badPayload = await api.call('POST', '/v1/jobs', {
      token: acme,
      tenant: 'acme',
      body: { type: 'WEBHOOK_SEND', payload: { url: 42 } },
    });
    expect((await problemOf(badPayload)).status).toBe(422);
    const noSource = await api.call('POST', '/v1/jobs', {
      token: acme,
      tenant: 'acme',
      body: { type: 'KB_INGEST', payload: {} },
    });
    expect(await problemOf(noSource)).toMatchObject({
      status: 422,
      detail: 'The KB_INGEST payload is invalid.',
    });
  });

  it('lists agents without their secrets and gives one a task (an AGENT_TASK job)', async () => {
    const list = await (await api.call('GET', '/v1/agents', { token: acme, tenant: 'acme' })).json();
    expect(list).toMatchObject({
      items: [{ id: 'helper', model: { provider: 'openai', model: 'gpt-4o-mini' } }],
    });
    expect(JSON.stringify((list as { items: unknown[] }).items)).not.toContain('openai-key');
    expect((await api.call('GET', '/v1/agents/helper', { token: acme, tenant: 'acme' })).status).toBe(200);
    expect((await api.call('GET', '/v1/agents/nobody', { token: acme, tenant: 'acme' })).status).toBe(404);
    const run = await api.call('POST', '/v1/agents/helper/run', {
      token: acme,
      tenant: 'acme',
      body: { task: 'Summarise' },
    });
    expect(run.status).toBe(202);
    const job = (await run.json()) as { id: string; type: string };
    expect(job.type).toBe('AGENT_TASK');
    expect(run.headers.get('location')).toBe(`/v1/jobs/${job.id}`);
    const missing = await api.call('POST', '/v1/agents/nobody/run', {
      token: acme,
      tenant: 'acme',
      body: { task: 'x' },
    });
    expect(missing.status).toBe(404);
  });
});

describe('tenant isolation', () => {
  it('answers 404 to another tenant on every route that takes an id', async () => {
    const run = (await (await trigger({ name: 'Eve' })).json()) as Run;
    const job = (await (
      await api.call('POST', '/v1/agents/helper/run', {
        token: acme,
        tenant: 'acme',
        body: { task: 'private' },
      })
    ).json()) as { id: string };
    const matrix: Array<[string, string]> = [
      ['GET', `/v1/runs/${run.id}`],
      ['POST', `/v1/runs/${run.id}/retry`],
      ['POST', `/v1/runs/${run.id}/restart`],
      ['POST', `/v1/runs/${run.id}/cancel`],
      ['GET', `/v1/jobs/${job.id}`],
    ];
    for (const [method, path] of matrix) {
      const res = await api.call(method, path, { token: globex, tenant: 'globex' });
      expect([method, path, res.status]).toEqual([method, path, 404]);
      // And the other tenant's token cannot even name acme.
      const named = await api.call(method, path, { token: globex, tenant: 'acme' });
      expect([method, path, named.status]).toEqual([method, path, 403]);
    }
    const runs = (await (await api.call('GET', '/v1/runs', { token: globex, tenant: 'globex' })).json()) as {
      items: Run[];
    };
    expect(runs.items).toEqual([]);
    const audit = (await (
      await api.call('GET', '/v1/audit', { token: globex, tenant: 'globex' })
    ).json()) as {
      items: unknown[];
    };
    expect(audit.items.every((e) => (e as { tenantId: string }).tenantId === 'globex')).toBe(true);
    const still = await api.call('GET', `/v1/runs/${run.id}`, { token: acme, tenant: 'acme' });
    expect(await still.json()).toMatchObject({ status: 'queued' });
  });

  it('answers 404 for malformed ids instead of reaching the database', async () => {
    for (const path of ['/v1/runs/not-a-uuid', '/v1/jobs/%E0%A4%A', '/v1/runs/1%27%20or%201=1']) {
      expect((await api.call('GET', path, { token: acme, tenant: 'acme' })).status).toBe(404);
    }
  });
});
