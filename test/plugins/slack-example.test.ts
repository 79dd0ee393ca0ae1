/**
 * examples/connector-slack, a package of its own, installed beside Atlas as npm would (its
 * `file:` devDependency links atlas-engine), loaded through ATLAS_CONNECTORS, and used by a
 * workflow against a fake Slack: the message posted, Slack's `ok: false` codes as the step's
 * errors, and a 429 retried no sooner than its Retry-After. Its own `npm test` passes too.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinConnectors } from '../../connectors/index.ts';
import { auditWritesSettled } from '../../engine/db/audit.ts';
import { loadPlugins } from '../../engine/plugins/index.ts';
import type { RunDetail } from '../../engine/runtime/index.ts';
import {
  answer,
  CHAT_KEY,
  type ChatFake,
  callTools,
  startChatCompletions,
} from '../fakes/chat-completions.ts';
import { SLACK_BOT_TOKEN, type SlackFake, slackRateLimited, startSlack } from '../fakes/slack.ts';
import { cliEnv, ROOT } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';

const post = (id: string, channel: string) => `apiVersion: atlas/v1
kind: Workflow
id: ${id}
trigger: { type: manual }
steps:
  - id: call
    uses: slack.chat.postMessage
    with: { channel: "${channel}", text: "Invoice {{ input.number }} paid" }
    retry: { maxAttempts: 3, backoff: { initial: 10ms, factor: 1, jitter: 0 } }
`;

const AGENT = `apiVersion: atlas/v1
kind: Agent
id: slack-helper
name: Slack helper
model: { provider: custom, model: gpt-4o-mini, baseUrl: "CHAT_URL", apiKeySecret: CHAT_KEY }
instructions: Post what you are asked to Slack.
tools: [slack.chat.postMessage]
limits: { maxTurns: 3 }
`;

describe('the Slack connector plugin', () => {
  const database = useTestDatabase();
  let dir: string;
  let slack: SlackFake;
  let te: TestEngine;
  let chat: ChatFake;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-slack-plugin-'));
    const pkg = path.join(dir, 'node_modules/atlas-connector-slack');
    await fs.cp(path.join(ROOT, 'examples/connector-slack'), pkg, { recursive: true });
    await fs.mkdir(path.join(pkg, 'node_modules'));
    await fs.symlink(ROOT, path.join(pkg, 'node_modules/atlas-engine'), 'dir');
    slack = await startSlack();
    chat = await startChatCompletions({ script: [] });
    te = await startTestEngine(database, {
      tenants: ['acme', 'globex'],
      env: { ATLAS_CONNECTORS: pkg, ATLAS_CONNECTOR_SLACK_BASE_URL: slack.url },
      manifests: {
        'WF-980.yaml': post('WF-980', '#ops'),
        'WF-981.yaml': post('WF-981', '#nowhere'),
        'slack-helper.yaml': AGENT.replace('CHAT_URL', chat.url),
      },
    });
    await te.startWorker();
    await te.services.secrets.put('acme', 'SLACK_BOT_TOKEN', SLACK_BOT_TOKEN);
    await te.services.secrets.put('acme', 'CHAT_KEY', CHAT_KEY);
    await te.services.secrets.put('globex', 'SLACK_BOT_TOKEN', 'xoxb-revoked-token');
  });
  afterAll(async () => {
    await te?.stop();
    await slack?.close();
    await chat?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const call = (run: RunDetail) => run.steps.find((s) => s.id === 'call')!;

  it('posts the message with the tenant’s bot token, which no record shows', async () => {
    const run = await te.runToEnd('WF-980', { number: 'INV-7' });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(call(run).attempts[0]!.output).toEqual({
      channel: 'C0OPS0001',
      ts: expect.stringMatching(/^\d+\.\d+$/),
    });
    expect(slack.posted.at(-1)).toEqual({ channel: 'C0OPS0001', text: 'Invoice INV-7 paid' });
    expect(te.services.plugins[0]).toMatchObject({ id: 'slack', package: { name: 'atlas-connector-slack' } });
    await auditWritesSettled(database.db);
    const audit = await database.db('audit_log').where({ entity_id: 'slack.chat.postMessage' });
    expect(audit.length).toBeGreaterThan(0);
    const records = JSON.stringify([
      audit,
      await database.db('step_runs').select('input', 'output', 'error'),
    ]);
    expect(records).not.toContain(SLACK_BOT_TOKEN);
  });

  it('is a tool of an agent that lists it, exactly like a built-in action', async () => {
    chat.enqueue(
      callTools({
        id: 'c1',
        name: 'slack__chat__postMessage',
        arguments: { channel: '#ops', text: 'Hello from the agent' },
      }),
      answer('Posted it.'),
    );
    const job = await te.runtime.enqueueJob({
      tenantId: 'acme',
      type: 'AGENT_TASK',
      payload: { agent: 'slack-helper', task: 'Say hello in #ops.' },
    });
    let done = await te.runtime.getJob('acme', job.id);
    for (let i = 0; i < 200 && done && !['succeeded', 'failed'].includes(done.status); i++) {
      await new Promise((r) => setTimeout(r, 100));
      done = await te.runtime.getJob('acme', job.id);
    }
    expect(done?.status, JSON.stringify(done?.lastError)).toBe('succeeded');
    expect(slack.posted.at(-1)).toEqual({ channel: 'C0OPS0001', text: 'Hello from the agent' });
    // The model was offered the plugin's action with its input schema, as built-ins are.
    expect(chat.requests[0]!.tools?.map((t) => t.function.name)).toEqual(['slack__chat__postMessage']);
  });

  it('maps ok: false to the step’s error: fatal channel_not_found, auth invalid_auth', async () => {
    const missing = await te.runToEnd('WF-981', { number: 'INV-8' });
    expect(missing.status).toBe('failed');
    expect(call(missing).attempts).toHaveLength(1);
    expect(call(missing).attempts[0]!.error).toMatchObject({
      kind: 'fatal',
      code: 'channel_not_found',
      message: 'slack chat.postMessage: channel_not_found',
    });
    const revoked = await te.runToEnd('WF-980', { number: 'INV-9' }, 'globex');
    expect(revoked.status).toBe('failed');
    expect(call(revoked).attempts).toHaveLength(1);
    expect(call(revoked).attempts[0]!.error).toMatchObject({ kind: 'auth', code: 'invalid_auth' });
  });

  it('waits for a 429’s Retry-After before posting again', async () => {
    slack.enqueue(slackRateLimited(1));
    const run = await te.runToEnd('WF-980', { number: 'INV-10' });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    const [first, second] = call(run).attempts;
    expect(first!.error).toMatchObject({
      kind: 'retryable',
      code: 'ratelimited',
      status: 429,
      retryAfterMs: 1000,
    });
    // Measured from the failure itself: the ledger's finishedAt is written a moment later.
    const failedAt = Date.parse((first!.error as { at: string }).at);
    expect(Date.parse(first!.retryAt!) - failedAt).toBeGreaterThanOrEqual(1000);
    expect(Date.parse(second!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(first!.retryAt!));
    expect(second!.status).toBe('succeeded');
  });

  it('resolves by its npm name from where it is installed', async () => {
    const { plugins } = await loadPlugins(['atlas-connector-slack'], {
      builtins: builtinConnectors,
      cwd: dir,
    });
    expect(plugins[0]).toMatchObject({
      id: 'slack',
      source: 'atlas-connector-slack',
      file: await fs.realpath(path.join(dir, 'node_modules/atlas-connector-slack/index.ts')),
    });
  });

  it('its own tests pass with npm test', async () => {
    const pkg = path.join(dir, 'node_modules/atlas-connector-slack');
    const result = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn('npm', ['test'], { cwd: pkg, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, output }));
    });
    expect(result.output).toMatch(/# pass 4\n# fail 0/);
    expect(result.code).toBe(0);
  }, 90_000);
});
