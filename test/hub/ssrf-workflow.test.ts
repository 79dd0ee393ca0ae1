/**
 * The reproduction from the review: a tenant starts WF-010 with a loopback `statusUrl`. The
 * step must fail with `ssrf_blocked`, the internal service must see no request, and nothing
 * it could have answered may be stored.
 */
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, type ChatFake, startChatCompletions } from '../fakes/chat-completions.ts';
import { type FakeServer, json, startFake } from '../fakes/server.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { poll } from '../helpers/poll.ts';
import { type ApiEngine, startApiEngine } from '../secrets/engine.ts';

const INTERNAL = 'internal-only-answer-7f3a';

interface StepView {
  id: string;
  status: string;
  attempts: Array<{ status: string; output: unknown; error: { code?: string; kind?: string } | null }>;
}

describe('SSRF through a workflow', () => {
  const database = useTestDatabase();
  let api: ApiEngine;
  let internal: FakeServer;
  let chat: ChatFake;
  beforeAll(async () => {
    internal = await startFake(() => json(200, { status: { description: INTERNAL, indicator: 'major' } }));
    chat = await startChatCompletions({ script: [answer('hello from the local model')], key: 'unused' });
    const wf010 = await fs.readFile('manifests/workflows/WF-010-daily-digest.yaml', 'utf8');
    api = await startApiEngine(database, {
      // The former name still works (with a warning); it allows nothing the tests reach.
      env: { ATLAS_WEBHOOK_ALLOWLIST: '10.9.0.0/16' },
      manifests: {
        'WF-010.yaml': wf010,
        // The operator's local model: trusted for the agent, and for nothing else.
        'local.yaml': `apiVersion: atlas/v1
kind: Agent
id: local
model: { provider: custom, model: llama3.1, baseUrl: "${chat.url}" }
instructions: Answer.
tools: []
`,
        'WF-901.yaml': `apiVersion: atlas/v1
kind: Workflow
id: WF-901
name: Ask the local model
trigger: { type: manual }
steps:
  - id: ask
    uses: agent.run
    with: { agent: local, task: Say hello }
  - id: direct
    uses: http.request
    with: { method: POST, url: "${chat.url}/chat/completions", json: {} }
`,
      },
    });
  });
  afterAll(async () => {
    await api?.stop();
    await internal?.close();
    await chat?.close();
  });

  const finished = (id: string) =>
    poll(async () => {
      const res = await api.call('GET', `/v1/runs/${id}`);
      const body = (await res.json()) as { status: string; steps: StepView[] };
      return ['failed', 'succeeded'].includes(body.status) ? body : undefined;
    });

  it('refuses a loopback statusUrl with ssrf_blocked and stores no response', async () => {
    const started = await api.call('POST', '/v1/workflows/WF-010/runs', {
      body: { input: { statusUrl: `${internal.url}/internal` } },
    });
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: string };
    const run = await finished(id);
    expect(run.status).toBe('failed');
    const step = run.steps.find((s) => s.id === 'fetchStatus');
    expect(step?.attempts).toHaveLength(1); // fatal: not retried
    expect(step?.attempts[0]).toMatchObject({
      status: 'failed',
      output: null,
      error: { code: 'ssrf_blocked', kind: 'fatal' },
    });
    expect(internal.requests).toHaveLength(0);
    const rows = await database.db('step_runs').where({ run_id: id }).select('output', 'error');
    expect(JSON.stringify(rows)).not.toContain(INTERNAL);
    expect(rows.every((r: { output: unknown }) => r.output === null)).toBe(true);
  });

  it("trusts an agent's model.baseUrl for that agent only, not for http.request", async () => {
    const started = await api.call('POST', '/v1/workflows/WF-901/runs', { body: { input: {} } });
    expect(started.status).toBe(202);
    const run = await finished(((await started.json()) as { id: string }).id);
    const step = (id: string) => run.steps.find((s) => s.id === id)?.attempts.at(-1);
    expect(step('ask')?.error).toBeNull();
    expect(step('ask')).toMatchObject({
      status: 'succeeded',
      output: { answer: 'hello from the local model' },
    });
    expect(step('direct')).toMatchObject({ status: 'failed', error: { code: 'ssrf_blocked' } });
    expect(chat.requests).toHaveLength(1);
  });

  it('warns that ATLAS_WEBHOOK_ALLOWLIST is deprecated', () => {
    const warnings = api.logs.filter((line) => line.includes('ATLAS_WEBHOOK_ALLOWLIST is deprecated'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40 });
  });
});
