/**
 * Sub-workflows (`uses: workflow.run`): a child run for the same tenant, linked both ways in
 * `GET /v1/runs/:id`; the caller parks (no lease, no worker) until the child ends and takes
 * its output, or its failure; `wait: false` goes on with `{ runId }`; cancelling the caller
 * cancels its children; calls nest at most 10 deep. The API on a real HTTP server on
 * 127.0.0.1, the engine's worker in this process.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinConnectors } from '../../connectors/index.ts';
import { mintToken } from '../../engine/auth/mint.ts';
import { makeConnectorRegistry } from '../../engine/connector-sdk/index.ts';
import { validateSources } from '../../engine/manifest/index.ts';
import { dryRun } from '../../engine/runtime/dry-run.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { waitFor } from '../helpers/poll.ts';
import { closeServer } from '../http/harness.ts';

const SECRET = 'atlas-calls-test-secret-0123456789';
const wf = (id: string, steps: string, extra = '') =>
  `apiVersion: atlas/v1\nkind: Workflow\nid: ${id}\ntrigger: { type: manual }\n${extra}steps:\n${steps}`;
const call = (child: string, more = '') =>
  `  - id: child\n    uses: workflow.run\n    with: { workflow: ${child}${more} }\n`;

/** WF-970 calls WF-971, ..., WF-980 calls WF-981: the last call is 11 levels deep. */
const chain = Object.fromEntries(
  Array.from({ length: 12 }, (_, k) => {
    const id = `WF-${970 + k}`;
    const steps = k < 11 ? call(`WF-${971 + k}`) : '  - id: leaf\n    uses: core.noop\n';
    return [`chain-${k}.yaml`, wf(id, steps)];
  }),
);

const MANIFESTS = {
  ...chain,
  'parent.yaml': wf(
    'WF-950',
    `  - id: greet
    uses: workflow.run
    with: { workflow: WF-951, input: { name: "{{ input.name }}" } }
  - id: after
    uses: core.set
    with: { value: "{{ steps.greet.output.message }}" }
`,
    'output: { said: "{{ steps.after.output }}" }\n',
  ),
  'child.yaml': wf(
    'WF-951',
    `  - id: shape
    uses: core.set
    with: { value: { message: "Hello {{ input.name }}" } }
`,
    'input: { type: object, required: [name], properties: { name: { type: string } } }\noutput: { message: "{{ steps.shape.output.message }}" }\n',
  ),
  'failing-child.yaml': wf(
    'WF-952',
    `  - id: boom
    uses: core.fail
    with: { kind: auth, code: revoked }
    retry: { maxAttempts: 1 }
`,
  ),
  'calls-failing.yaml': wf('WF-953', call('WF-952')),
  'fire-and-forget.yaml': wf('WF-954', call('WF-955', ', wait: false')),
  'waits-for-signal.yaml': wf(
    'WF-955',
    `  - id: approval
    uses: core.waitForSignal
    with: { name: approval, timeout: 1h }
`,
  ),
  'calls-waiting.yaml': wf('WF-956', call('WF-955')),
};

describe('workflow.run', () => {
  const database = useTestDatabase();
  let engine: TestEngine;
  let server: Server;
  let url: string;
  let token: string;

  beforeAll(async () => {
    engine = await startTestEngine(database, {
      manifests: MANIFESTS,
      env: { ATLAS_JWT_SECRET: SECRET },
      http: true,
    });
    await engine.startWorker(2);
    server = createServer(engine.engine.app!.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    token = await mintToken({ secret: SECRET, sub: 'alice', tenants: ['acme'], ttlSeconds: 300 });
  });
  afterAll(async () => {
    if (server) await closeServer(server);
    await engine?.stop();
  });

  const getRun = async (id: string) => {
    const res = await fetch(`${url}/v1/runs/${id}`, {
      headers: { authorization: `Bearer ${token}`, 'x-tenant-id': 'acme' },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown> & {
      status: string;
      calledBy: unknown;
      calls: Array<{ runId: string; workflowId: string; stepId: string; status: string }>;
    };
  };
  const row = (id: string) => database.db('workflow_runs').where({ id }).first();

  it('runs the child for the same tenant, outputs its output, and links both ways', async () => {
    const parent = await engine.runToEnd('WF-950', { name: 'Ada' });
    expect(parent.status).toBe('succeeded');
    expect(parent.output).toEqual({ said: 'Hello Ada' });
    const view = await getRun(parent.id);
    expect(view.calledBy).toBeNull();
    expect(view.calls).toHaveLength(1);
    const [link] = view.calls;
    expect(link).toEqual({ runId: link!.runId, workflowId: 'WF-951', stepId: 'greet', status: 'succeeded' });
    const child = await getRun(link!.runId);
    expect(child.calledBy).toEqual({ runId: parent.id, stepId: 'greet' });
    expect(child.calls).toEqual([]);
    expect(child).toMatchObject({
      tenantId: 'acme',
      input: { name: 'Ada' },
      output: { message: 'Hello Ada' },
    });
    expect(child.trigger).toMatchObject({ type: 'call', runId: parent.id, stepId: 'greet', depth: 1 });
  });

  it('fails the step with the child error kind when the child fails', async () => {
    const parent = await engine.runToEnd('WF-953');
    expect(parent.status).toBe('failed');
    const childId = (await getRun(parent.id)).calls[0]!.runId;
    expect(parent.error).toMatchObject({ step: 'child', kind: 'auth', code: 'revoked', childRunId: childId });
    expect((parent.error as { message: string }).message).toContain('WF-952');
  });

  it('parks the caller with no lease while the child waits, and goes on when the child ends', async () => {
    const { run } = await engine.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-956' });
    await waitFor(async () => (await getRun(run.id)).calls[0]?.status === 'waiting');
    await waitFor(async () => (await row(run.id))?.status === 'waiting');
    expect((await row(run.id)).lease_owner).toBeNull();
    const childId = (await getRun(run.id)).calls[0]!.runId;
    await engine.runtime.signal({
      tenantId: 'acme',
      runId: childId,
      name: 'approval',
      payload: { approved: true },
      sender: 'test',
    });
    const done = (await engine.runtime.waitForRun('acme', run.id, 15_000))!;
    expect(done.status).toBe('succeeded');
    expect(done.steps[0]!.attempts[0]!.output).toBeNull();
  });

  it('goes on at once with { runId } under wait: false', async () => {
    const parent = await engine.runToEnd('WF-954');
    expect(parent.status).toBe('succeeded');
    const [link] = (await getRun(parent.id)).calls;
    expect(parent.steps[0]!.attempts[0]!.output).toEqual({ runId: link!.runId });
    await waitFor(async () => (await row(link!.runId))?.status === 'waiting');
    await engine.runtime.cancel('acme', link!.runId);
  });

  it('cancels the children of a cancelled caller', async () => {
    const { run } = await engine.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-956' });
    await waitFor(async () => (await row(run.id))?.status === 'waiting');
    const childId = (await getRun(run.id)).calls[0]!.runId;
    await engine.runtime.cancel('acme', run.id);
    expect((await row(run.id)).status).toBe('cancelled');
    expect((await row(childId)).status).toBe('cancelled');
  });

  it('fails a call nested deeper than 10 levels', async () => {
    const top = await engine.runToEnd('WF-970', {}, 'acme', 30_000);
    expect(top.status).toBe('failed');
    const deepest = await database.db('workflow_runs').where({ workflow_id: 'WF-980' }).first();
    expect(deepest.status).toBe('failed');
    expect(deepest.error.message).toContain('sub-workflows nest at most 10 levels');
    expect(await database.db('workflow_runs').where({ workflow_id: 'WF-981' })).toHaveLength(0);
  });
});

describe('workflow.run in a dry run', () => {
  it("shows the child's plan with the input the call renders, and its output as the step's", async () => {
    const { catalogue } = validateSources(
      Object.entries(MANIFESTS).map(([file, text]) => ({ file, text })),
      { connectors: builtinConnectors },
    );
    const plan = await dryRun({
      workflow: catalogue!.workflow('WF-950')!.manifest,
      connectors: makeConnectorRegistry(builtinConnectors),
      tenantId: 'acme',
      input: { name: 'Ada' },
      workflows: (id) => catalogue!.workflow(id)?.manifest,
    });
    const [greet] = plan.steps;
    expect(greet).toMatchObject({
      id: 'greet',
      input: { workflow: 'WF-951', input: { name: 'Ada' } },
      child: { workflowId: 'WF-951', wait: true },
      output: { message: 'Hello Ada' },
    });
    expect(greet!.child!.plan!.steps[0]).toMatchObject({
      id: 'shape',
      input: { value: { message: 'Hello Ada' } },
    });
    expect(plan.output).toEqual({ value: { said: 'Hello Ada' } });
  });
});
