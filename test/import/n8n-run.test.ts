/**
 * n8n exports from test/fixtures/n8n, imported with `importN8n` and run end to end by the
 * whole engine (queue, runtime, hub, PostgreSQL) against the providers' local fakes. Each
 * test asserts the provider calls the n8n workflow makes: same endpoint, same payload.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importN8n } from '../../engine/import/n8n/index.ts';
import type { RunDetail } from '../../engine/runtime/index.ts';
import { OPENAI_KEY, startOpenAI } from '../fakes/openai.ts';
import { RESEND_KEY, type ResendFake, startResend } from '../fakes/resend.ts';
import { type FakeServer, json, startFake } from '../fakes/server.ts';
import { STRIPE_KEY, startStripe } from '../fakes/stripe.ts';
import { BOT_TOKEN, startTelegram } from '../fakes/telegram.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/n8n');

let telegram: FakeServer;
let stripe: FakeServer;
let openai: FakeServer;
let resend: ResendFake;
let api: FakeServer;
let engine: TestEngine;
let home: string;
/** Imported workflow id per fixture file name. */
const ids = new Map<string, string>();

function webhook(body: unknown, query: Record<string, string> = {}) {
  return {
    type: 'webhook',
    route: 'n8n',
    eventId: `evt-${Math.random()}`,
    eventType: 'message',
    body,
    headers: {},
    query,
  };
}

async function run(
  fixture: string,
  trigger: Record<string, unknown> = { type: 'manual' },
  input: unknown = {},
): Promise<RunDetail> {
  const workflowId = ids.get(fixture);
  if (!workflowId) throw new Error(`${fixture} was not imported`);
  const { run: started } = await engine.runtime.trigger({ tenantId: 'acme', workflowId, input, trigger });
  const done = await engine.runtime.waitForRun('acme', started.id, 20_000);
  if (!done) throw new Error('the run vanished');
  return done;
}

const stepStatus = (r: RunDetail) => Object.fromEntries(r.steps.map((s) => [s.id, s.status]));
const sent = (server: FakeServer, method: string) =>
  server.requests
    .filter((r) => r.path.endsWith(`/${method}`))
    .map((r) => r.json() as Record<string, unknown>);

describe('imported n8n workflows run against the fakes', () => {
  const database = useTestDatabase();
  beforeAll(async () => {
    [telegram, stripe, openai, resend] = await Promise.all([
      startTelegram(BOT_TOKEN),
      startStripe(),
      startOpenAI(),
      startResend(),
    ]);
    api = await startFake((req) => {
      if (req.path === '/rates') return json(200, { base: req.query.get('base'), rates: { USD: 1.08 } });
      if (req.path === '/a' || req.path === '/b')
        return json(200, { value: req.path.slice(1).toUpperCase() });
      if (req.path === '/user') return json(200, { name: 'ada' });
      return json(200, { ok: true });
    });
    // The fixtures name an unreachable local port; the copies point at the fake API instead.
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-n8n-run-'));
    const exports = path.join(home, 'exports');
    await fs.mkdir(exports);
    for (const file of await fs.readdir(FIXTURES)) {
      const text = await fs.readFile(path.join(FIXTURES, file), 'utf8');
      await fs.writeFile(path.join(exports, file), text.replaceAll('http://127.0.0.1:9', api.url));
    }
    const result = await importN8n({
      paths: [exports],
      idFrom: 700,
      catalogue: [path.join(ROOT, 'manifests')],
    });
    for (const w of result.report.workflows) if (w.id) ids.set(path.basename(w.source), w.id);
    const out = path.join(home, 'manifests');
    for (const file of result.files) {
      await fs.mkdir(path.dirname(path.join(out, file.name)), { recursive: true });
      await fs.writeFile(path.join(out, file.name), file.text);
    }
    engine = await startTestEngine(database, {
      dirs: [path.join(ROOT, 'manifests'), out],
      env: {
        ATLAS_CONNECTOR_TELEGRAM_BASE_URL: telegram.url,
        ATLAS_CONNECTOR_STRIPE_BASE_URL: stripe.url,
        ATLAS_CONNECTOR_OPENAI_BASE_URL: openai.url,
        ATLAS_CONNECTOR_EMAIL_BASE_URL: resend.url,
        RESEND_FROM: 'Atlas <noreply@atlas.dev>',
        // The imported HTTP Request nodes call a fake API on loopback, which the SSRF guard refuses unless allowed.
        ATLAS_OUTBOUND_ALLOWLIST: '127.0.0.1',
      },
    });
    const { secrets } = engine.services;
    await secrets.put('acme', 'TELEGRAM_BOT_TOKEN', BOT_TOKEN);
    await secrets.put('acme', 'STRIPE_SECRET_KEY', STRIPE_KEY);
    await secrets.put('acme', 'OPENAI_API_KEY', OPENAI_KEY);
    await secrets.put('acme', 'RESEND_API_KEY', RESEND_KEY);
    await secrets.put('acme', 'LEDGER_TOKEN', 'ledger-token-123');
    await engine.startWorker(4);
  });
  afterAll(async () => {
    await engine?.stop();
    await Promise.all([telegram, stripe, openai, resend, api].map((f) => f?.close()));
    if (home) await fs.rm(home, { recursive: true, force: true });
  });

  it('runs the benchmark flow: webhook → set → if → no-op, each branch', async () => {
    const big = await run('benchmark-webhook-set-if-noop.json', webhook({ customer: 'acme', amount: 250 }));
    expect(big.status).toBe('succeeded');
    expect(stepStatus(big)).toEqual({ editFields: 'succeeded', big: 'succeeded', small: 'skipped' });
    expect(big.steps[0]!.attempts[0]!.output).toEqual({ customer: 'acme', amount: 250, source: 'benchmark' });
    const small = await run('benchmark-webhook-set-if-noop.json', webhook({ customer: 'acme', amount: 5 }));
    expect(stepStatus(small)).toEqual({ editFields: 'succeeded', big: 'skipped', small: 'succeeded' });
  });

  it('runs Stripe → Telegram with the message n8n sends', async () => {
    const before = sent(telegram, 'sendMessage').length;
    const event = {
      id: 'evt_1',
      type: 'payment_intent.succeeded',
      data: { object: { id: 'pi_42', amount_received: 1999, currency: 'eur' } },
    };
    const r = await run('stripe-to-telegram.json', {
      ...webhook(event),
      route: 'stripe',
      eventType: event.type,
    });
    expect(r.status).toBe('succeeded');
    expect(sent(telegram, 'sendMessage').slice(before)).toEqual([
      { chat_id: '-100123', text: 'Payment pi_42 received: 1999 eur' },
    ]);
  });

  it('posts the JSON body n8n builds, with the bearer credential as a secret', async () => {
    const before = api.requests.length;
    const r = await run(
      'webhook-to-http-bearer.json',
      webhook({ id: 'o-7', total: 12.5 }, { ledger: api.url }),
    );
    expect(r.status).toBe('succeeded');
    const call = api.requests[before]!;
    expect([call.method, call.path]).toEqual(['POST', '/entries']);
    expect(call.header('authorization')).toBe('Bearer ledger-token-123');
    expect(call.json()).toEqual({ order: 'o-7', amount: 12.5, note: 'from n8n' });
  });

  it('reads an earlier node by name: schedule → HTTP GET with query → Telegram', async () => {
    const before = sent(telegram, 'sendMessage').length;
    const r = await run('schedule-rates-to-telegram.json', {
      type: 'schedule',
      at: new Date().toISOString(),
      scheduledAt: new Date().toISOString(),
    });
    expect(r.status).toBe('succeeded');
    expect(api.requests.some((q) => q.path === '/rates' && q.query.get('base') === 'EUR')).toBe(true);
    expect(sent(telegram, 'sendMessage').slice(before)).toEqual([
      { chat_id: '42', text: 'EUR/USD today: 1.08' },
    ]);
  });

  it('answers a Telegram update only when the IF (v1) holds', async () => {
    const before = sent(telegram, 'sendMessage').length;
    const update = (text: string) => ({
      update_id: 1,
      message: { text, chat: { id: 77 }, from: { first_name: 'Ada' } },
    });
    const yes = await run('telegram-echo-if-v1.json', {
      ...webhook(update('I need help')),
      route: 'telegram',
    });
    const no = await run('telegram-echo-if-v1.json', { ...webhook(update('hi')), route: 'telegram' });
    expect(stepStatus(yes)).toEqual({ reply: 'succeeded' });
    expect(stepStatus(no)).toEqual({ reply: 'skipped' });
    expect(sent(telegram, 'sendMessage').slice(before)).toEqual([
      { chat_id: 77, text: 'Hello Ada, here is the help.' },
    ]);
  });

  it('routes a Switch (v3) to one output, the fallback included', async () => {
    const before = sent(telegram, 'sendMessage').length;
    await run('webhook-switch-route.json', webhook({ type: 'outage', message: 'db down' }));
    await run('webhook-switch-route.json', webhook({ type: 'marketing', message: 'hello' }));
    expect(sent(telegram, 'sendMessage').slice(before)).toEqual([
      { chat_id: '2', text: 'Outage: db down' },
      { chat_id: '3', text: 'Other: hello' },
    ]);
  });

  it('creates a Stripe customer and announces its id', async () => {
    const before = sent(telegram, 'sendMessage').length;
    const r = await run('manual-stripe-customer.json');
    expect(r.status).toBe('succeeded');
    const create = stripe.requests.find((q) => q.path === '/v1/customers')!;
    expect(Object.fromEntries(new URLSearchParams(create.text()))).toEqual({
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      description: 'imported from n8n',
    });
    const id = (r.steps[0]!.attempts[0]!.output as { id: string }).id;
    expect(sent(telegram, 'sendMessage').slice(before)).toEqual([
      { chat_id: '7', text: `New customer ${id} (ada@example.com)` },
    ]);
  });

  it('keeps the input fields a Set (v2) passes through: sub-workflow input → HTTP PUT', async () => {
    const before = api.requests.length;
    const r = await run(
      'subworkflow-set-v2-http.json',
      { type: 'manual' },
      { crmUrl: api.url, contactId: 'c-9' },
    );
    expect(r.status).toBe('succeeded');
    const call = api.requests[before]!;
    expect([call.method, call.path]).toEqual(['PUT', '/contacts/c-9']);
    expect(call.json()).toEqual({ status: 'active', score: 7 });
  });

  it('fails on Stop and Error with its message, and confirms otherwise', async () => {
    const before = sent(telegram, 'sendMessage').length;
    const ok = await run('webhook-stop-and-error.json', webhook({ id: 'o-1', items: 3 }));
    const empty = await run('webhook-stop-and-error.json', webhook({ id: 'o-2', items: 0 }));
    expect(ok.status).toBe('succeeded');
    expect(empty.status).toBe('failed');
    expect(empty.error).toMatchObject({
      step: 'stopAndError',
      code: 'n8n_stop_and_error',
      message: 'Order o-2 is empty',
    });
    expect(stepStatus(empty)).toEqual({ confirm: 'skipped', stopAndError: 'failed' });
    expect(sent(telegram, 'sendMessage').slice(before)).toEqual([
      { chat_id: '5', text: 'Order o-1 has 3 items' },
    ]);
  });

  it('stops at an untranslated Code node with a message naming it, after the steps before it ran', async () => {
    const before = api.requests.filter((q) => q.path === '/user').length;
    const r = await run('partial-code-node.json');
    expect(r.status).toBe('failed');
    expect(stepStatus(r)).toMatchObject({ fetchUser: 'succeeded', code: 'failed' });
    expect(api.requests.filter((q) => q.path === '/user').length).toBe(before + 1);
    const error = JSON.stringify(r.steps.find((s) => s.id === 'code')!.attempts[0]!.error);
    expect(error).toContain('n8n node \\"Code\\" (n8n-nodes-base.code v2) was not translated');
  });

  it('turns an AI Agent with an OpenAI model into one chat completion', async () => {
    const before = sent(telegram, 'sendMessage').length;
    const r = await run('langchain-agent-openai.json', webhook({ ticket: 'printer on fire' }));
    expect(r.status).toBe('succeeded');
    const call = openai.requests.find((q) => q.path.endsWith('/chat/completions'))!;
    expect(call.json()).toMatchObject({
      model: 'gpt-4o-mini',
      temperature: 0.2,
      messages: [
        { role: 'system', content: 'You are a support assistant.' },
        { role: 'user', content: 'Summarise: printer on fire' },
      ],
    });
    expect(sent(telegram, 'sendMessage').slice(before)).toEqual([
      { chat_id: '11', text: 'echo: Summarise: printer on fire' },
    ]);
  });

  it('runs two lookups in parallel and merges them (Merge as needs)', async () => {
    const before = sent(telegram, 'sendMessage').length;
    const r = await run('parallel-merge.json', webhook({ base: api.url }));
    expect(r.status).toBe('succeeded');
    expect(sent(telegram, 'sendMessage').slice(before)).toEqual([{ chat_id: '12', text: 'A=A B=B' }]);
  });

  it('sends the email n8n sends, through Resend', async () => {
    const r = await run('webhook-email.json', webhook({ email: 'ada@example.com', name: 'Ada' }));
    expect(r.status).toBe('succeeded');
    expect(resend.emails.at(-1)).toMatchObject({
      to: ['ada@example.com'],
      subject: 'Welcome',
      html: '<p>Hi Ada</p>',
    });
  });

  it('loops over split items with computed values, then gathers them (Split Out, Wait, Aggregate, Date & Time)', async () => {
    const before = sent(telegram, 'sendMessage').length;
    const trigger = webhook({
      invoices: [
        { number: 'A-1', amount: 100, customer: 'ada' },
        { number: 'A-2', amount: 50, customer: 'bob' },
      ],
    });
    const r = await run('webhook-split-compute-aggregate.json', trigger);
    expect(r.status).toBe('succeeded');
    const messages = sent(telegram, 'sendMessage').slice(before);
    // The per-item messages and the gathering branch run side by side, as n8n's two outputs do.
    const perItem = messages.filter((m) => String(m['text']).includes(' for '));
    expect(perItem).toEqual([
      { chat_id: '-100123', text: 'A-1 for ADA: 120 EUR' },
      { chat_id: '-100123', text: 'A-2 for BOB: 60 EUR' },
    ]);
    // n8n's $now became the run's trigger time; the due date is fourteen days after it.
    const due = new Date(new Date(r.createdAt).getTime() + 14 * 86_400_000).toISOString().slice(0, 10);
    const summary = messages.find((m) => !String(m['text']).includes(' for '))!;
    expect(summary['text']).toMatch(new RegExp(`^2 invoices \\(120, 60\\), due ${due}T`));
    expect(messages).toHaveLength(3);
  });

  it('calls an imported sub-workflow with workflow.run (Execute Workflow), which sends what n8n sent', async () => {
    const before = sent(telegram, 'sendMessage').length;
    const r = await run('subworkflow-call-parent.json');
    expect(r.status).toBe('succeeded');
    expect(r.calls).toEqual([
      expect.objectContaining({
        workflowId: ids.get('subworkflow-call-child.json'),
        stepId: 'greet',
        status: 'succeeded',
      }),
    ]);
    expect(sent(telegram, 'sendMessage').slice(before)).toEqual([{ chat_id: '-100123', text: 'Hello ada' }]);
  });
});
