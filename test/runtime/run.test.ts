import client from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';

const header = (id: string, extra = '') => `apiVersion: atlas/v1
kind: Workflow
id: ${id}
trigger: { type: manual }
${extra}`;

const MANIFESTS = {
  'three.yaml': `${header('WF-900', 'input:\n  type: object\n  properties:\n    name: { type: string }\n')}steps:
  - id: first
    uses: core.set
    with: { value: { greeting: "hi {{ input.name ?? 'there' }}" } }
  - id: second
    uses: core.noop
    with: { said: "{{ steps.first.output.greeting }}" }
  - id: third
    uses: core.set
    with: { value: "{{ steps.second.output }}" }
`,
  'retry.yaml': `${header('WF-901')}steps:
  - id: flaky
    uses: core.fail
    with: { kind: retryable, code: flaky, times: 2 }
    retry: { maxAttempts: 3, backoff: { initial: 10ms, factor: 2, max: 50ms, jitter: 0 } }
`,
  'fatal.yaml': `${header('WF-902')}steps:
  - id: before
    uses: core.set
    with: { value: 1 }
  - id: broken
    uses: core.fail
    with: { kind: fatal, code: nope, message: broken on purpose }
  - id: after
    uses: core.noop
`,
  'continue.yaml': `${header('WF-903')}steps:
  - id: broken
    uses: core.fail
    onError: continue
    retry: { maxAttempts: 1 }
  - id: after
    uses: core.set
    with: { value: done }
`,
  'skip.yaml': `${header('WF-904', 'input:\n  type: object\n  properties:\n    go: { type: boolean }\n')}steps:
  - id: maybe
    uses: core.set
    if: { "==": [{ var: input.go }, true] }
    with: { value: went }
  - id: always
    uses: core.set
    with: { value: here }
`,
  'retry-after.yaml': `${header('WF-905')}steps:
  - id: limited
    uses: core.fail
    with: { kind: retryable, code: rate_limited, times: 1, retryAfterMs: 400 }
    retry: { maxAttempts: 2, backoff: { initial: 1ms, jitter: 0 } }
`,
  'timeout.yaml': `${header('WF-906')}steps:
  - id: slow
    uses: core.sleep
    with: { ms: 5000 }
    timeout: 100ms
    retry: { maxAttempts: 1 }
`,
  'auth.yaml': `${header('WF-907')}steps:
  - id: denied
    uses: core.fail
    with: { kind: auth, code: token_revoked }
    retry: { maxAttempts: 5, backoff: { initial: 1ms } }
`,
};

describe('workflow execution', () => {
  const database = useTestDatabase();
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine(database, { manifests: MANIFESTS });
    await engine.startWorker();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('runs three steps in order, each output committed and read by the next', async () => {
    const run = await engine.runToEnd('WF-900', { name: 'Ada' });
    expect(run.status).toBe('succeeded');
    expect(run.steps.map((s) => [s.id, s.status])).toEqual([
      ['first', 'succeeded'],
      ['second', 'succeeded'],
      ['third', 'succeeded'],
    ]);
    expect(run.steps[1]!.attempts[0]!.input).toEqual({ said: 'hi Ada' });
    expect(run.steps[2]!.attempts[0]!.output).toEqual({ said: 'hi Ada' });
    const ordered = run.steps.map((s) => s.attempts[0]!);
    expect(ordered[0]!.finishedAt! <= ordered[1]!.startedAt!).toBe(true);
    expect(ordered[1]!.finishedAt! <= ordered[2]!.startedAt!).toBe(true);
  });

  it('pins the manifest version the run started with', async () => {
    const run = await engine.runToEnd('WF-900');
    expect(run.manifestHash).toBe(engine.services.catalogue.workflow('WF-900')!.hash);
    const stored = await database.db('manifest_versions').where({ hash: run.manifestHash }).first();
    expect(stored.manifest_id).toBe('WF-900');
  });

  it('retries a retryable failure with backoff and keeps every attempt', async () => {
    const run = await engine.runToEnd('WF-901');
    expect(run.status).toBe('succeeded');
    const attempts = run.steps[0]!.attempts;
    expect(attempts.map((a) => a.status)).toEqual(['failed', 'failed', 'succeeded']);
    expect(attempts[0]!.error).toMatchObject({ code: 'flaky', kind: 'retryable', attempt: 1 });
    expect(attempts[2]!.output).toEqual({ attempt: 3 });
    // Each retry was due its backoff (10 ms, then 20 ms) after the attempt before it began, and
    // the next attempt began no sooner. (`finishedAt` is the checkpoint's commit time, which a
    // busy group commit can push past the engine's own clock: the backoff is not measured from it.)
    for (const [i, backoff] of [10, 20].entries()) {
      const retryAt = Date.parse(attempts[i]!.retryAt!);
      expect(retryAt - Date.parse(attempts[i]!.startedAt!)).toBeGreaterThanOrEqual(backoff);
      expect(Date.parse(attempts[i + 1]!.startedAt!)).toBeGreaterThanOrEqual(retryAt);
    }
  });

  it('fails the run on a fatal error, keeps the earlier output and never runs later steps', async () => {
    const run = await engine.runToEnd('WF-902');
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({
      step: 'broken',
      code: 'nope',
      kind: 'fatal',
      message: 'broken on purpose',
    });
    expect(run.steps.map((s) => s.status)).toEqual(['succeeded', 'failed', 'pending']);
    expect(run.steps[1]!.attempts).toHaveLength(1);
  });

  it('records the error and goes on with onError: continue', async () => {
    const run = await engine.runToEnd('WF-903');
    expect(run.status).toBe('succeeded');
    expect(run.steps.map((s) => s.status)).toEqual(['failed', 'succeeded']);
  });

  it('skips a step whose if is false, with the reason', async () => {
    const skipped = await engine.runToEnd('WF-904', { go: false });
    expect(skipped.steps[0]).toMatchObject({ status: 'skipped' });
    expect(skipped.steps[0]!.attempts[0]!.skipReason).toContain('`if`');
    const ran = await engine.runToEnd('WF-904', { go: true });
    expect(ran.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
  });

  it("waits at least a provider's Retry-After, even when the backoff is shorter", async () => {
    const run = await engine.runToEnd('WF-905');
    expect(run.status).toBe('succeeded');
    const [first, second] = run.steps[0]!.attempts;
    expect(Date.parse(first!.retryAt!) - Date.parse(first!.finishedAt!)).toBeGreaterThanOrEqual(390);
    expect(Date.parse(second!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(first!.retryAt!) - 5);
  });

  it('times a step out through its AbortSignal and records it as a timeout', async () => {
    const run = await engine.runToEnd('WF-906');
    expect(run.status).toBe('failed');
    expect(run.steps[0]!.attempts[0]!.error).toMatchObject({ code: 'timeout', kind: 'retryable' });
  });

  it('does not retry an auth error', async () => {
    const run = await engine.runToEnd('WF-907');
    expect(run.status).toBe('failed');
    expect(run.steps[0]!.attempts).toHaveLength(1);
    expect(run.error).toMatchObject({ code: 'token_revoked', kind: 'auth' });
  });

  it('rejects input that does not fit the workflow input schema, and unknown workflows', async () => {
    await expect(
      engine.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-900', input: { name: 7 } }),
    ).rejects.toMatchObject({
      code: 'invalid_input',
    });
    await expect(engine.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-999' })).rejects.toMatchObject({
      code: 'unknown_workflow',
    });
    await expect(engine.runtime.trigger({ tenantId: 'nobody', workflowId: 'WF-900' })).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('returns the existing run for a repeated idempotency key', async () => {
    const first = await engine.runtime.trigger({
      tenantId: 'acme',
      workflowId: 'WF-900',
      idempotencyKey: 'order-42',
    });
    const again = await engine.runtime.trigger({
      tenantId: 'acme',
      workflowId: 'WF-900',
      idempotencyKey: 'order-42',
    });
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.run.id).toBe(first.run.id);
  });

  it('exports run, step, retry and queue metrics for Prometheus', async () => {
    const text = await client.register.metrics();
    expect(text).toMatch(/atlas_runs_total\{workflow="WF-900",status="succeeded"\} [1-9]/);
    expect(text).toMatch(/atlas_runs_total\{workflow="WF-902",status="failed"\} [1-9]/);
    expect(text).toMatch(
      /atlas_step_duration_seconds_count\{connector="core",action="set",status="succeeded"\} [1-9]/,
    );
    expect(text).toMatch(/atlas_step_retries_total\{connector="core",action="fail"\} [1-9]/);
    expect(text).toMatch(/atlas_queue_depth \d+/);
    expect(text).toMatch(/atlas_queue_oldest_job_age_seconds [\d.]+/);
  });
});
