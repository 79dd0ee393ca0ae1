/**
 * Signals: a run parks in `core.waitForSignal` until `POST /v1/runs/:id/signals/:name`
 * (tenant-scoped, audited, idempotent) or its timeout (kind `timeout`, or `onTimeout`).
 * The API on a real HTTP server on 127.0.0.1, the engine's worker in this process.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../engine/auth/mint.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { waitFor } from '../helpers/poll.ts';
import { closeServer, problemOf } from '../http/harness.ts';

const SECRET = 'atlas-signal-test-secret-0123456789';

interface RunView {
  signals: unknown[];
  steps: Array<{ attempts: Array<Record<string, unknown> & { retryAt: string }> }>;
}
const wf = (id: string, steps: string) =>
  `apiVersion: atlas/v1\nkind: Workflow\nid: ${id}\ntrigger: { type: manual }\nsteps:\n${steps}`;

const MANIFESTS = {
  'approve.yaml': wf(
    'WF-945',
    `  - id: approval
    uses: core.waitForSignal
    with: { name: approval, timeout: 1h }
  - id: decided
    uses: core.set
    with: { value: "{{ steps.approval.output.approved }}" }
`,
  ),
  'timeout.yaml': wf(
    'WF-946',
    `  - id: approval
    uses: core.waitForSignal
    with: { name: approval, timeout: 2s }
`,
  ),
  'fallback.yaml': wf(
    'WF-947',
    `  - id: approval
    uses: core.waitForSignal
    with: { name: approval, timeout: 2s }
    onTimeout: { output: { approved: false, by: "{{ tenant.id }}" } }
  - id: decided
    uses: core.set
    with: { value: "{{ steps.approval.output }}" }
`,
  ),
};

describe('signals', () => {
  const database = useTestDatabase();
  let engine: TestEngine;
  let server: Server;
  let url: string;
  let acme: string;
  let globex: string;

  beforeAll(async () => {
    engine = await startTestEngine(database, {
      manifests: MANIFESTS,
      tenants: ['acme', 'globex'],
      env: { ATLAS_JWT_SECRET: SECRET, ATLAS_BODY_LIMIT: '4kb' },
      http: true,
    });
    await engine.startWorker(2);
    server = createServer(engine.engine.app!.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    acme = await mintToken({ secret: SECRET, sub: 'alice', tenants: ['acme'], ttlSeconds: 300 });
    globex = await mintToken({ secret: SECRET, sub: 'gus', tenants: ['globex'], ttlSeconds: 300 });
  });
  afterAll(async () => {
    if (server) await closeServer(server);
    await engine?.stop();
  });

  const signal = (runId: string, name: string, body: unknown, token = acme, tenant = 'acme', key?: string) =>
    fetch(`${url}/v1/runs/${runId}/signals/${name}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'x-tenant-id': tenant,
        'content-type': 'application/json',
        ...(key ? { 'idempotency-key': key } : {}),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const status = async (id: string) =>
    (await database.db('workflow_runs').where({ id }).first('status'))?.status as string | undefined;

  it('parks the run until the signal comes; its payload is the step output; a replay acts once', async () => {
    const { run } = await engine.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-945' });
    await waitFor(async () => (await status(run.id)) === 'waiting');
    // Another tenant's run is not found; a name the run does not wait for is a conflict.
    const foreign = await signal(run.id, 'approval', { approved: true }, globex, 'globex');
    expect(foreign.status).toBe(404);
    expect((await problemOf(foreign)).detail).toContain(run.id);
    const wrong = await signal(run.id, 'refund', { approved: true });
    expect(wrong.status).toBe(409);
    expect((await problemOf(wrong)).detail).toBe(
      `Run ${run.id} is waiting and not waiting for a signal "refund".`,
    );
    const big = await signal(run.id, 'approval', { note: 'x'.repeat(10_000) });
    expect(big.status).toBe(413);
    const bad = await signal(run.id, 'not-an-identifier', {});
    expect(bad.status).toBe(404);
    expect(await status(run.id)).toBe('waiting');

    const first = await signal(run.id, 'approval', { approved: true, by: 'manager' }, acme, 'acme', 'k-1');
    expect(first.status).toBe(202);
    expect(await first.json()).toMatchObject({
      runId: run.id,
      name: 'approval',
      sender: 'alice',
      replayed: false,
    });
    const replay = await signal(run.id, 'approval', { approved: false }, acme, 'acme', 'k-1');
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toMatchObject({ replayed: true, sender: 'alice' });

    const done = (await engine.runtime.waitForRun('acme', run.id, 15_000))!;
    expect(done.status).toBe('succeeded');
    expect(done.steps[0]!.attempts[0]!.output).toEqual({ approved: true, by: 'manager' });
    expect(done.steps[1]!.attempts[0]!.output).toBe(true);
    // Once the run went on, the same signal without the key is a conflict.
    expect((await signal(run.id, 'approval', { approved: true })).status).toBe(409);
    const audit = await database.db('audit_log').where({ tenant_id: 'acme', action: 'runs.signal' });
    // Every request is audited (the delivery and its replay); the signal is recorded once.
    expect(audit.filter((a) => a.result === 'ok')).toHaveLength(2);
    expect(await database.db('run_signals').where({ run_id: run.id })).toHaveLength(1);
  });

  it('shows in the run view what a run waits for and every signal it received', async () => {
    const { run } = await engine.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-945' });
    await waitFor(async () => (await status(run.id)) === 'waiting');
    const view = async (token = acme, tenant = 'acme') =>
      fetch(`${url}/v1/runs/${run.id}`, {
        headers: { authorization: `Bearer ${token}`, 'x-tenant-id': tenant },
      });
    const waiting = (await (await view()).json()) as RunView;
    expect(waiting.signals).toEqual([]);
    const wait = waiting.steps[0]!.attempts[0]!;
    expect(wait).toMatchObject({
      status: 'waiting',
      uses: 'core.waitForSignal',
      input: { name: 'approval' },
    });
    expect(new Date(wait.retryAt).getTime() - Date.now()).toBeGreaterThan(55 * 60_000);
    expect((await signal(run.id, 'approval', { approved: true, note: 'ok' })).status).toBe(202);
    const body = (await (await view()).json()) as RunView;
    expect(body.signals).toEqual([
      {
        name: 'approval',
        stepId: 'approval',
        payload: { approved: true, note: 'ok' },
        sender: 'alice',
        receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    ]);
    // Another tenant sees neither the run nor its signals.
    expect((await view(globex, 'globex')).status).toBe(404);
    await engine.runtime.waitForRun('acme', run.id, 15_000);
  });

  it('fails the step with kind timeout when no signal comes in time', async () => {
    const run = await engine.runToEnd('WF-946');
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ step: 'approval', kind: 'timeout', code: 'timeout' });
    expect(run.steps[0]!.attempts).toHaveLength(1);
  });

  it('takes onTimeout when the step has one', async () => {
    const run = await engine.runToEnd('WF-947');
    expect(run.status).toBe('succeeded');
    expect(run.steps[1]!.attempts[0]!.output).toEqual({ approved: false, by: 'acme' });
  });

  it('keeps a waiting run through the loss of every worker, and delivers the signal to a new one', async () => {
    const { run } = await engine.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-945' });
    await waitFor(async () => (await status(run.id)) === 'waiting');
    await engine.stop();
    engine = await startTestEngine(database, { manifests: MANIFESTS, tenants: ['acme', 'globex'] });
    await engine.startWorker(1);
    await engine.runtime.signal({
      tenantId: 'acme',
      runId: run.id,
      name: 'approval',
      payload: { approved: false },
      sender: 'test',
    });
    const done = (await engine.runtime.waitForRun('acme', run.id, 15_000))!;
    expect(done.status).toBe('succeeded');
    expect(done.steps[1]!.attempts[0]!.output).toBe(false);
  });
});
