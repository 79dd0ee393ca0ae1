/**
 * Platform credentials, end to end (HTTP API, worker, PostgreSQL), against local fakes: the
 * operator offers Graph mail, Resend, the model keys and not Telegram; what a tenant may target
 * with them is what the admin-only tenant settings say, whatever the tenant writes elsewhere.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../engine/auth/mint.ts';
import { ConfigError, loadConfig } from '../../engine/config.ts';
import { type RunningEngine, startEngine } from '../../engine/engine.ts';
import { silentLogger } from '../../engine/log.ts';
import type { RunDetail } from '../../engine/runtime/index.ts';
import {
  answer,
  CHAT_KEY,
  type ChatFake,
  callTools,
  startChatCompletions,
} from '../fakes/chat-completions.ts';
import { type GraphFake, MS, startGraph } from '../fakes/msgraph.ts';
import { OPENAI_KEY, startOpenAI } from '../fakes/openai.ts';
import { RESEND_KEY, type ResendFake, startResend } from '../fakes/resend.ts';
import type { FakeServer } from '../fakes/server.ts';
import { STRIPE_KEY, startStripe } from '../fakes/stripe.ts';
import { BOT_TOKEN, startTelegram } from '../fakes/telegram.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { servingConfig } from '../helpers/engine.ts';

const JWT_SECRET = 'atlas-platform-test-secret-0123456789';
const database = useTestDatabase();

let home: string;
let graph: GraphFake;
let resend: ResendFake;
let openai: FakeServer;
let chat: ChatFake;
let telegram: FakeServer;
let stripe: FakeServer;
let engine: RunningEngine;
let acmeToken: string;
let adminToken: string;

const ACME = { mailboxes: ['ops@acme.example'], llm: { tokensPerDay: 40 }, files: { maxFiles: 10 } };

function workflow(id: string, uses: string, withYaml: string, input = ''): string {
  return `apiVersion: atlas/v1
kind: Workflow
id: ${id}
trigger: { type: manual }
${input}steps:
  - id: call
    uses: ${uses}
    with: ${withYaml}
    retry: { maxAttempts: 3, backoff: { initial: 10ms, factor: 1, jitter: 0 } }
`;
}

async function writeCatalogue(dir: string, chatUrl: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const files: Record<string, string> = {
    'WF-901.yaml': workflow(
      'WF-901',
      'msgraph.outlook.listMessages',
      '{ mailbox: "{{ input.mailbox }}", top: 5 }',
      'input: { type: object, required: [mailbox], properties: { mailbox: { type: string } } }\n',
    ),
    'WF-902.yaml': workflow(
      'WF-902',
      'openai.chat',
      '{ model: gpt-4o-mini, messages: [{ role: user, content: "Hi" }] }',
    ),
    'WF-903.yaml': workflow('WF-903', 'telegram.sendMessage', '{ chat_id: 42, text: hi }'),
    'WF-904.yaml': workflow('WF-904', 'stripe.customers.create', '{ email: ada@example.com }'),
    'mailer.yaml': `apiVersion: atlas/v1
kind: Agent
id: mailer
model: { provider: deepseek, model: deepseek-chat, baseUrl: "${chatUrl}" }
instructions: Read mail when asked.
tools: [msgraph.outlook.listMessages]
`,
  };
  for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(dir, name), text);
}

beforeAll(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-platform-'));
  [graph, resend, openai, chat, telegram, stripe] = await Promise.all([
    startGraph(),
    startResend(),
    startOpenAI(),
    startChatCompletions({ script: [], usage: { prompt_tokens: 10, completion_tokens: 5 } }),
    startTelegram(),
    startStripe(),
  ]);
  await writeCatalogue(path.join(home, 'manifests'), chat.url);
  const config = servingConfig(database.url, home, JWT_SECRET, {
    ATLAS_PLATFORM_CREDENTIALS: 'msgraph, email, openai, agent',
    ATLAS_CONNECTOR_MSGRAPH_BASE_URL: `${graph.url}/v1.0`,
    ATLAS_CONNECTOR_MSGRAPH_LOGIN_URL: graph.url,
    MS_TENANT_ID: MS.tenant,
    MS_CLIENT_ID: MS.clientId,
    MS_CLIENT_SECRET: MS.clientSecret,
    MS_MAIL_SENDER: 'ceo@platform.example',
    ATLAS_CONNECTOR_EMAIL_BASE_URL: resend.url,
    RESEND_API_KEY: RESEND_KEY,
    ATLAS_CONNECTOR_OPENAI_BASE_URL: `${openai.url}/v1`,
    OPENAI_API_KEY: OPENAI_KEY,
    DEEPSEEK_API_KEY: CHAT_KEY,
    // Set, but not offered to tenants: neither may be used for one.
    ATLAS_CONNECTOR_TELEGRAM_BASE_URL: telegram.url,
    TELEGRAM_BOT_TOKEN: BOT_TOKEN,
    ATLAS_CONNECTOR_TELEGRAM_TELEGRAM_BOT_TOKEN: BOT_TOKEN,
    ATLAS_CONNECTOR_STRIPE_BASE_URL: stripe.url,
    STRIPE_SECRET_KEY: STRIPE_KEY,
  });
  engine = await startEngine({ config, log: silentLogger, http: true, worker: true });
  await database.db('tenants').insert([
    { id: 'acme', name: 'Acme' },
    { id: 'globex', name: 'Globex' },
  ]);
  acmeToken = await mintToken({ secret: JWT_SECRET, sub: 'ops@acme', tenants: ['acme'], ttlSeconds: 600 });
  adminToken = await mintToken({
    secret: JWT_SECRET,
    sub: 'operator',
    tenants: [],
    admin: true,
    ttlSeconds: 600,
  });
  expect((await admin('PUT', '/v1/tenants/acme/settings', ACME)).status).toBe(200);
  expect(
    (await admin('PUT', '/v1/tenants/globex/settings', { mailboxes: ['sales@globex.example'] })).status,
  ).toBe(200);
});

afterAll(async () => {
  await engine?.stop();
  await Promise.all([graph, resend, openai, chat, telegram, stripe].map((f) => f?.close()));
  await fs.rm(home, { recursive: true, force: true });
});

function call(token: string, method: string, url: string, body?: unknown): Promise<Response> {
  return fetch(`${engine.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'x-tenant-id': 'acme', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}
const tenant = (method: string, url: string, body?: unknown) => call(acmeToken, method, url, body);
const admin = (method: string, url: string, body?: unknown) => call(adminToken, method, url, body);

interface JobView {
  status: string;
  result: unknown;
  lastError: { code: string; kind: string; message: string } | null;
  steps: Array<{ id: string; status: string; error: unknown }>;
}

async function job(type: string, payload: unknown): Promise<JobView> {
  const res = await tenant('POST', '/v1/jobs', { type, payload });
  expect(res.status, await res.clone().text()).toBe(202);
  const location = res.headers.get('location')!;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const view = (await (await tenant('GET', location)).json()) as JobView;
    if (['succeeded', 'failed', 'cancelled'].includes(view.status) || Date.now() > deadline) return view;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function run(workflowId: string, input: unknown = {}, tenantId = 'acme'): Promise<RunDetail> {
  const runtime = engine.services.runtime.runtime;
  return runtime
    .trigger({ tenantId, workflowId, input, trigger: { type: 'manual' } })
    .then(async ({ run }) => {
      const done = await runtime.waitForRun(tenantId, run.id, 20_000);
      if (!done) throw new Error(`run ${run.id} did not end`);
      return done;
    });
}

/** The run failed at once (one attempt of three) with this error code. */
function expectRefused(done: RunDetail, code: string, kind = 'fatal'): void {
  expect(done.status).toBe('failed');
  const attempts = done.steps.find((s) => s.id === 'call')!.attempts;
  expect(attempts).toHaveLength(1);
  expect(attempts[0]!.error).toMatchObject({ code, kind });
}

const mail = { to: ['ada@example.com'], subject: 'Quarterly numbers', text: 'See attached.' };

describe('platform mail sends only as the mailboxes assigned to the tenant', () => {
  it('refuses EMAIL_SEND from a mailbox the operator did not assign, on Graph and on Resend', async () => {
    const [sent, emails] = [graph.sent.length, resend.emails.length];
    for (const from of ['ceo@platform.example', 'CEO <ceo@platform.example>', 'sales@globex.example']) {
      const refused = await job('EMAIL_SEND', { ...mail, from });
      expect(refused.status).toBe('failed');
      expect(refused.lastError).toMatchObject({ code: 'mailbox_not_assigned', kind: 'fatal' });
      const viaResend = await job('EMAIL_SEND', { ...mail, from, provider: 'resend' });
      expect(viaResend.lastError).toMatchObject({ code: 'mailbox_not_assigned' });
    }
    expect(graph.sent.length).toBe(sent);
    expect(resend.emails.length).toBe(emails);
  });

  it('sends from an assigned mailbox, and by default from the first one rather than the platform sender', async () => {
    expect(await job('EMAIL_SEND', { ...mail, from: 'Ops@Acme.example' })).toMatchObject({
      status: 'succeeded',
      result: { provider: 'msgraph' },
    });
    expect(await job('EMAIL_SEND', mail)).toMatchObject({ status: 'succeeded' });
    expect(graph.sent.slice(-2).map((s) => s.mailbox)).toEqual(['Ops@Acme.example', 'ops@acme.example']);
    const viaResend = await job('EMAIL_SEND', {
      ...mail,
      from: 'Acme <ops@acme.example>',
      provider: 'resend',
    });
    expect(viaResend).toMatchObject({ status: 'succeeded', result: { provider: 'resend' } });
    expect(resend.emails.at(-1)).toMatchObject({ from: 'Acme <ops@acme.example>' });
  });

  it('refuses outlook.listMessages of another mailbox, in a workflow and as an agent tool', async () => {
    const before = graph.requests.filter((r) => r.path.includes('/messages')).length;
    expectRefused(await run('WF-901', { mailbox: 'ceo@platform.example' }), 'mailbox_not_assigned');
    expectRefused(await run('WF-901', { mailbox: 'ops@acme.example' }, 'globex'), 'mailbox_not_assigned');
    expect(graph.requests.filter((r) => r.path.includes('/messages')).length).toBe(before);
    const own = await run('WF-901', { mailbox: 'ops@acme.example' });
    expect(own.status).toBe('succeeded');

    chat.enqueue(
      callTools({ name: 'msgraph__outlook__listMessages', arguments: { mailbox: 'ceo@platform.example' } }),
      answer('I may not read that mailbox.'),
    );
    const task = await job('AGENT_TASK', { agent: 'mailer', task: "Read the CEO's mail." });
    expect(task.status).toBe('succeeded');
    const tool = task.steps.find((s) => s.id.startsWith('tool#1'))!;
    expect(tool).toMatchObject({ status: 'failed', error: { reason: 'mailbox_not_assigned' } });
    expect(JSON.stringify(chat.requests.at(-1)!.messages)).toContain('mailbox_not_assigned');
    expect(graph.requests.filter((r) => r.path.includes('/messages')).length).toBe(before + 1);
  });
});

describe('no platform credential without the operator’s choice', () => {
  it('does not use TELEGRAM_BOT_TOKEN or STRIPE_SECRET_KEY from the environment for a tenant', async () => {
    const [tg, st] = [telegram.requests.length, stripe.requests.length];
    expectRefused(await run('WF-903'), 'token_missing', 'auth');
    expectRefused(await run('WF-904'), 'token_missing', 'auth');
    expect(telegram.requests.length).toBe(tg);
    expect(stripe.requests.length).toBe(st);
    // The tenant's own credentials work.
    await engine.services.secrets.put('acme', 'STRIPE_SECRET_KEY', STRIPE_KEY);
    expect((await run('WF-904')).status).toBe('succeeded');
  });

  it('refuses to offer the platform Stripe account, or a connector it does not know', () => {
    for (const [value, says] of [
      ['email,stripe', 'never offered to tenants'],
      ['telegramm', 'must list connectors among msgraph, email, telegram, openai, agent'],
    ] as const) {
      expect(() => loadConfig({ ATLAS_PLATFORM_CREDENTIALS: value })).toThrowError(ConfigError);
      expect(() => loadConfig({ ATLAS_PLATFORM_CREDENTIALS: value })).toThrowError(
        new RegExp(`^ATLAS_PLATFORM_CREDENTIALS .*${says}`),
      );
    }
  });
});

describe('the daily token budget on a platform LLM key', () => {
  const usage = async (tenantId: string) =>
    Number((await database.db('platform_token_usage').where({ tenant_id: tenantId }).first())?.tokens ?? 0);

  it('counts each call and refuses, without calling the provider, once the day’s tokens are spent', async () => {
    await database.db('platform_token_usage').where({ tenant_id: 'acme' }).delete();
    // The fake reports 17 tokens a call; the budget is 40: two calls leave 34, a third starts
    // under the budget and finishes (51), the fourth is refused.
    for (let i = 0; i < 3; i++) expect((await run('WF-902')).status).toBe('succeeded');
    expect(await usage('acme')).toBe(51);
    const before = openai.requests.length;
    const refused = await run('WF-902');
    expectRefused(refused, 'budget_exceeded');
    expect(refused.steps[0]!.attempts[0]!.error).toMatchObject({
      message: expect.stringContaining('51 of its 40 tokens'),
    });
    expect(openai.requests.length).toBe(before);
    // An agent task on the platform's key stops the same way.
    const task = await job('AGENT_TASK', { agent: 'mailer', task: 'Anything new?' });
    expect(task).toMatchObject({ status: 'failed', lastError: { code: 'budget_exceeded' } });
  });

  it('refuses a tenant the operator gave no budget, and does not meter a tenant’s own key', async () => {
    expectRefused(await run('WF-902', {}, 'globex'), 'budget_exceeded');
    await engine.services.secrets.put('globex', 'OPENAI_API_KEY', OPENAI_KEY);
    expect((await run('WF-902', {}, 'globex')).status).toBe('succeeded');
    expect(await usage('globex')).toBe(0);
  });

  it('adds concurrent calls of every worker atomically', async () => {
    await admin('PUT', '/v1/tenants/acme/settings', { ...ACME, llm: { tokensPerDay: 1_000_000 } });
    await database.db('platform_token_usage').where({ tenant_id: 'acme' }).delete();
    const runs = await Promise.all(Array.from({ length: 8 }, () => run('WF-902')));
    expect(runs.map((r) => r.status)).toEqual(Array(8).fill('succeeded'));
    expect(await usage('acme')).toBe(8 * 17);
    await admin('PUT', '/v1/tenants/acme/settings', ACME);
  });
});

describe('admin-only tenant settings', () => {
  it('cannot be raised by the tenant through its workflow config', async () => {
    const res = await tenant('PUT', '/v1/workflows/WF-901/enabled', {
      enabled: true,
      config: { mailboxes: ['ceo@platform.example'], llm: { tokensPerDay: 1e12 }, settings: { x: 1 } },
    });
    expect(res.status).toBeLessThan(300);
    expectRefused(await run('WF-901', { mailbox: 'ceo@platform.example' }), 'mailbox_not_assigned');
    expect(await (await admin('GET', '/v1/tenants/acme/settings')).json()).toEqual(ACME);
  });

  it('are neither readable nor writable with a tenant token', async () => {
    expect((await tenant('GET', '/v1/tenants/acme/settings')).status).toBe(403);
    const put = await tenant('PUT', '/v1/tenants/acme/settings', { llm: { tokensPerDay: 1e12 } });
    expect(put.status).toBe(403);
    expect(await (await admin('GET', '/v1/tenants/acme/settings')).json()).toEqual(ACME);
  });

  it('are validated, keep keys of other parts, answer 404 for an unknown tenant, and are audited', async () => {
    const bad = await admin('PUT', '/v1/tenants/acme/settings', {
      mailboxes: ['not an address'],
      llm: { tokensPerDay: -1 },
    });
    expect(bad.status).toBe(422);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(((await bad.json()) as { errors: unknown[] }).errors).toHaveLength(2);
    expect((await admin('PUT', '/v1/tenants/nobody/settings', {})).status).toBe(404);
    expect((await admin('GET', '/v1/tenants/nobody/settings')).status).toBe(404);
    const entries = await database
      .db('audit_log')
      .where({ action: 'tenants.settings.update', entity_id: 'acme', result: 'ok' });
    expect(entries.length).toBeGreaterThan(0);
    expect(entries[0]).toMatchObject({ actor: 'operator', tenant_id: null });
  });
});
