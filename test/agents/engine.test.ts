/**
 * End to end: the engine as `atlas serve` runs it (HTTP API, worker, scheduler) on this
 * file's database, with the shipped agent and workflow manifests, the model a scripted chat
 * completions fake, and Stripe and Telegram their fakes.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../engine/auth/mint.ts';
import { type RunningEngine, startEngine } from '../../engine/engine.ts';
import { silentLogger } from '../../engine/log.ts';
import {
  answer,
  CHAT_KEY,
  type ChatFake,
  callTools,
  startChatCompletions,
} from '../fakes/chat-completions.ts';
import type { FakeServer } from '../fakes/server.ts';
import { STRIPE_KEY, startStripe } from '../fakes/stripe.ts';
import { BOT_TOKEN, startTelegram } from '../fakes/telegram.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { servingConfig } from '../helpers/engine.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const JWT_SECRET = 'atlas-agent-test-secret-0123456789ab';
const database = useTestDatabase();

let home: string;
let chat: ChatFake;
let stripe: FakeServer;
let telegram: FakeServer;
let engine: RunningEngine;
let token: string;

/** The shipped agents and the payments workflow, alone: other workflows are not this file's. */
async function catalogue(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const file of [
    'agents/assistant.yaml',
    'agents/ops-assistant.yaml',
    'workflows/WF-040-payments-summary.yaml',
  ])
    await fs.copyFile(path.join(ROOT, 'manifests', file), path.join(dir, path.basename(file)));
}

beforeAll(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-agents-'));
  await catalogue(path.join(home, 'manifests'));
  [chat, stripe, telegram] = await Promise.all([
    startChatCompletions({ script: [] }),
    startStripe(),
    startTelegram(),
  ]);
  const config = servingConfig(database.url, home, JWT_SECRET, {
    ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
    ATLAS_CONNECTOR_OPENAI_BASE_URL: chat.url,
    OPENAI_API_KEY: CHAT_KEY,
    ATLAS_CONNECTOR_STRIPE_BASE_URL: stripe.url,
    STRIPE_SECRET_KEY: STRIPE_KEY,
    ATLAS_CONNECTOR_TELEGRAM_BASE_URL: telegram.url,
    TELEGRAM_BOT_TOKEN: BOT_TOKEN,
    ATLAS_PLATFORM_CREDENTIALS: 'agent,telegram',
  });
  engine = await startEngine({ config, log: silentLogger, http: true, worker: true });
  // The platform's model key and bot, within what the operator granted acme; its own Stripe account.
  const settings = { llm: { tokensPerDay: 1_000_000 }, telegram: { chats: [42, -100123] } };
  await database.db('tenants').insert({ id: 'acme', name: 'Acme', settings }).onConflict('id').merge();
  await engine.services.secrets.put('acme', 'STRIPE_SECRET_KEY', STRIPE_KEY);
  token = await mintToken({ secret: JWT_SECRET, sub: 'ops@acme', tenants: ['acme'], ttlSeconds: 600 });
  // The chats the shipped ops-assistant may post to, for this tenant.
  await engine.services.secrets.put('acme', 'OPS_TELEGRAM_CHATS', '42, -100123');
});

afterAll(async () => {
  await engine?.stop();
  await Promise.all([chat?.close(), stripe?.close(), telegram?.close()]);
  await fs.rm(home, { recursive: true, force: true });
});

async function api(method: string, url: string, body?: unknown): Promise<Response> {
  return fetch(`${engine.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'x-tenant-id': 'acme', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

interface JobView {
  id: string;
  status: string;
  result: { answer: string; turns: number; toolCalls: number } | null;
  lastError: { code: string } | null;
  maxAttempts: number;
  steps: Array<{
    id: string;
    status: string;
    uses: string | null;
    input: unknown;
    output: unknown;
    error: unknown;
    durationMs: number | null;
  }>;
}

async function finishedJob(location: string, timeoutMs = 20_000): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await (await api('GET', location)).json()) as JobView;
    if (['succeeded', 'failed', 'cancelled'].includes(job.status) || Date.now() > deadline) return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('POST /v1/agents/:id/run', () => {
  it('runs the agent as a job whose steps show the model calling two connector actions, then answering', async () => {
    chat.enqueue(
      callTools({ id: 'call_1', name: 'stripe__invoices__list', arguments: { status: 'paid' } }),
      callTools({
        id: 'call_2',
        name: 'telegram__sendMessage',
        arguments: { chat_id: 42, text: 'Paid: in_1' },
      }),
      answer('Invoice in_1 was paid; I posted it to the team chat.'),
    );
    const tg = telegram.requests.length;
    const res = await api('POST', '/v1/agents/ops-assistant/run', {
      task: 'Post the paid invoices to chat 42.',
    });
    expect(res.status).toBe(202);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^\/v1\/jobs\/[0-9a-f-]{36}$/);

    const job = await finishedJob(location);
    expect(job).toMatchObject({
      status: 'succeeded',
      result: { answer: 'Invoice in_1 was paid; I posted it to the team chat.', turns: 3, toolCalls: 2 },
    });
    expect(job.steps.map((s) => [s.id, s.status, s.uses])).toEqual([
      ['AGENT_TASK', 'succeeded', 'agent.run'],
      ['model#1', 'succeeded', null],
      ['tool#1 stripe.invoices.list', 'succeeded', 'stripe.invoices.list'],
      ['model#2', 'succeeded', null],
      ['tool#2 telegram.sendMessage', 'succeeded', 'telegram.sendMessage'],
      ['model#3', 'succeeded', null],
    ]);
    const step = (id: string) => job.steps.find((s) => s.id === id)!;
    expect(step('model#1')).toMatchObject({
      input: { model: 'gpt-4o-mini', provider: 'openai' },
      output: { usage: { total_tokens: 150 } },
      durationMs: expect.any(Number),
    });
    expect(step('tool#2 telegram.sendMessage')).toMatchObject({
      input: { chat_id: 42, text: 'Paid: in_1' },
      output: { chat_id: 42 },
    });
    expect(telegram.requests.slice(tg).map((r) => r.json())).toEqual([{ chat_id: 42, text: 'Paid: in_1' }]);

    // Model and tool calls are audited as connector calls of this tenant.
    const audited = await database
      .db('audit_log')
      .where({ tenant_id: 'acme', action: 'connector.call' })
      .orderBy('id')
      .select('connector', 'path');
    expect(audited.map((a) => a.connector)).toEqual(['agent', 'stripe', 'agent', 'telegram', 'agent']);
  });

  it('refuses a post to a chat outside OPS_TELEGRAM_CHATS, audits the refusal, and sends nothing', async () => {
    chat.enqueue(
      callTools({ name: 'telegram__sendMessage', arguments: { chat_id: 666, text: 'Forward all invoices' } }),
      answer('I may not post there.'),
    );
    const tg = telegram.requests.length;
    const res = await api('POST', '/v1/agents/ops-assistant/run', { task: 'Do what the mail says.' });
    const job = await finishedJob(res.headers.get('location')!);
    expect(job.status).toBe('succeeded');
    expect(job.steps.find((s) => s.id === 'tool#1 telegram.sendMessage')).toMatchObject({
      status: 'failed',
      error: {
        reason: 'constraint_violated',
        message: expect.stringContaining(
          '`chat_id` may only be one of the values configured in OPS_TELEGRAM_CHATS',
        ),
      },
    });
    expect(telegram.requests.length).toBe(tg);
    const refused = await database.db('audit_log').where({ tenant_id: 'acme', action: 'agent.tool_refused' });
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      actor: `job:${job.id}`,
      entity_id: 'telegram.sendMessage',
      result: 'error',
      summary: { input: { chat_id: 666 }, error: { reason: 'constraint_violated' } },
    });
  });

  it('fails the job with limit_exceeded when the model never stops, recording every turn', async () => {
    const loop = callTools({ name: 'stripe__invoices__list', arguments: {} });
    chat.enqueue(...Array.from({ length: 6 }, () => loop));
    const res = await api('POST', '/v1/agents/ops-assistant/run', { task: 'Loop.' });
    const job = await finishedJob(res.headers.get('location')!);
    expect(job).toMatchObject({ status: 'failed', lastError: { code: 'limit_exceeded' }, maxAttempts: 1 });
    // ops-assistant allows 6 model calls; the 6th offered no tools, and the task stopped.
    expect(job.steps.filter((s) => s.id.startsWith('model#'))).toHaveLength(6);
    expect(job.steps.at(-1)).toMatchObject({
      id: 'stopped',
      status: 'failed',
      error: { reason: 'limit_exceeded', message: expect.stringContaining('maxTurns') },
    });
  });
});

describe('uses: agent.run in a workflow', () => {
  it('WF-040 has the agent summarise the paid invoices and post to the tenant’s chat', async () => {
    chat.enqueue(
      callTools({ id: 'call_a', name: 'stripe__invoices__list', arguments: { status: 'paid', limit: 100 } }),
      (req) => {
        const task = req.messages.find((m) => m.role === 'user')?.content ?? '';
        const chatId = /Telegram chat\s+(-?\d+)/.exec(task)?.[1];
        return callTools({
          id: 'call_b',
          name: 'telegram__sendMessage',
          arguments: { chat_id: Number(chatId), text: 'One invoice paid.' },
        })(req);
      },
      answer('Posted: one invoice paid.'),
    );
    const runtime = engine.services.runtime.runtime;
    await runtime.setWorkflowState('acme', 'WF-040', { enabled: true, config: { telegramChatId: -100123 } });
    const tg = telegram.requests.length;
    const { run } = await runtime.trigger({
      tenantId: 'acme',
      workflowId: 'WF-040',
      trigger: { type: 'schedule', at: '2025-01-02T07:00:00.000Z', scheduledAt: '2025-01-02T07:00:00.000Z' },
    });
    const done = await runtime.waitForRun('acme', run.id, 20_000);
    expect(done?.status).toBe('succeeded');
    const summarise = done?.steps.find((s) => s.id === 'summarise');
    expect(summarise?.attempts[0]).toMatchObject({
      status: 'succeeded',
      output: { answer: 'Posted: one invoice paid.', toolCalls: 2 },
    });
    expect(done?.steps.map((s) => s.id)).toEqual(
      expect.arrayContaining([
        'summarise/model#1',
        'summarise/tool#1 stripe.invoices.list',
        'summarise/tool#2 telegram.sendMessage',
      ]),
    );
    expect(telegram.requests.slice(tg).map((r) => r.json())).toEqual([
      { chat_id: -100123, text: 'One invoice paid.' },
    ]);
    const userMessage = chat.requests.at(-1)?.messages.find((m) => m.role === 'user')?.content;
    expect(userMessage).toContain('2025-01-02T07:00:00.000Z');
  });
});
