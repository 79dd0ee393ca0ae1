/**
 * webhook, telegram, msgraph and email actions, each run as a workflow step by the whole
 * engine (queue, runtime, hub, PostgreSQL rate limiter) against its local fake, with the
 * base URLs and settings given the way an installation gives them: ATLAS_CONNECTOR_* variables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELEGATED_TOKEN, type GraphFake, MS, startGraph } from '../fakes/msgraph.ts';
import { RESEND_KEY, type ResendFake, startResend } from '../fakes/resend.ts';
import type { FakeServer } from '../fakes/server.ts';
import { BOT_TOKEN, startTelegram, telegramFloodWait } from '../fakes/telegram.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import {
  type ActionCase,
  expectAuthFailure,
  expectRetriedAfter,
  manifestsOf,
  outputOf,
  tokenSource,
} from './in-workflow.ts';

const HOOK_SECRET = `whsec_${Buffer.from('in-workflow-signing-key-32-bytes').toString('base64')}`;
const mail = { to: ['ada@example.com'], subject: 'Welcome', body: '<p>Hi</p>' };

// The fakes' URLs are known only once they listen; a case reads them through these.
let receiver: WebhookReceiver;
let telegram: FakeServer;
let graph: GraphFake;
let resend: ResendFake;

const cases = (): ActionCase[] => [
  {
    id: 'WF-801',
    uses: 'webhook.send',
    input: { url: `${receiver.url}/events`, type: 'order.paid', data: { id: 7 }, secret: 'HOOK_SECRET' },
  },
  { id: 'WF-802', uses: 'telegram.sendMessage', input: { chat_id: 1, text: 'Order 7 paid' } },
  {
    id: 'WF-803',
    uses: 'telegram.sendDocument',
    input: {
      chat_id: 2,
      caption: 'invoice',
      document: { content_base64: Buffer.from('%PDF-1.7').toString('base64'), filename: 'i.pdf' },
    },
  },
  {
    id: 'WF-804',
    uses: 'telegram.setWebhook',
    input: { url: 'https://hooks.example.com/telegram', secret_token: 'TELEGRAM_HOOK_TOKEN' },
  },
  { id: 'WF-805', uses: 'msgraph.outlook.sendMail', input: mail },
  { id: 'WF-806', uses: 'msgraph.outlook.listMessages', input: { folder: 'inbox', top: 5 } },
  {
    id: 'WF-807',
    uses: 'msgraph.teams.postMessage',
    input: { teamId: 'team-1', channelId: '19:abc@thread.tacv2', text: 'Deploy done' },
  },
  { id: 'WF-808', uses: 'msgraph.teams.postMessage', input: { workflowUrlSecret: 'TEAMS_FLOW', text: 'Hi' } },
  {
    id: 'WF-809',
    uses: 'email.send',
    input: { to: ['ada@example.com'], subject: 'Welcome', html: '<b>Hi</b>' },
  },
  { id: 'WF-810', uses: 'telegram.sendMessage', input: { chat_id: 3, text: 'flood' } },
];

describe('messaging connectors inside workflows', () => {
  const database = useTestDatabase();
  let engine: TestEngine;
  beforeAll(async () => {
    [receiver, telegram, graph, resend] = await Promise.all([
      startWebhookReceiver(HOOK_SECRET),
      startTelegram(BOT_TOKEN),
      startGraph(),
      startResend(),
    ]);
    engine = await startTestEngine(database, {
      manifests: manifestsOf(cases()),
      tenants: ['acme', 'globex'],
      tokens: tokenSource({ acme: { microsoft: DELEGATED_TOKEN }, globex: { microsoft: 'stale-token' } }),
      env: {
        ATLAS_OUTBOUND_ALLOWLIST: '127.0.0.1',
        ATLAS_CONNECTOR_TELEGRAM_BASE_URL: telegram.url,
        TELEGRAM_BOT_TOKEN: BOT_TOKEN,
        ATLAS_CONNECTOR_MSGRAPH_BASE_URL: `${graph.url}/v1.0`,
        ATLAS_CONNECTOR_MSGRAPH_LOGIN_URL: graph.url,
        ATLAS_CONNECTOR_MSGRAPH_TEAMS_WEBHOOK_HOSTS: '127.0.0.1',
        MS_TENANT_ID: MS.tenant,
        MS_CLIENT_ID: MS.clientId,
        MS_CLIENT_SECRET: MS.clientSecret,
        MS_MAIL_SENDER: 'noreply@contoso.com',
        ATLAS_CONNECTOR_EMAIL_BASE_URL: resend.url,
        RESEND_API_KEY: RESEND_KEY,
        RESEND_FROM: 'Atlas <noreply@atlas.dev>',
        ATLAS_PLATFORM_CREDENTIALS: 'msgraph,email,telegram',
      },
    });
    const settings = { mailboxes: ['noreply@contoso.com'], telegram: { chats: [1, 2, 3] } };
    await database.db('tenants').whereIn('id', ['acme', 'globex']).update({ settings });
    const { secrets } = engine.services;
    await secrets.put('acme', 'HOOK_SECRET', HOOK_SECRET);
    await secrets.put('acme', 'TELEGRAM_HOOK_TOKEN', 'hook-token-Abc_123');
    // The platform bot's webhook is the operator's: setWebhook runs with acme's own bot.
    await secrets.put('acme', 'TELEGRAM_BOT_TOKEN', BOT_TOKEN);
    await secrets.put('acme', 'TEAMS_FLOW', `${graph.url}/workflows/abc?sig=s3cr3tSig`);
    // A tenant secret wins over the environment's bot token: globex's is one Telegram refuses.
    await secrets.put('globex', 'TELEGRAM_BOT_TOKEN', '999999999:AAwrongwrongwrongwrongwrongwrongwro');
    await engine.startWorker(8);
  });
  afterAll(async () => {
    await engine?.stop();
    await Promise.all([receiver, telegram, graph, resend].map((f) => f?.close()));
  });

  it('runs every action to success against its fake', async () => {
    const runs = await Promise.all(
      cases()
        .slice(0, 9)
        .map((c) => engine.runToEnd(c.id)),
    );
    const [hook, message, document, setHook, sendMail, list, teams, flow, email] = runs.map(outputOf);

    expect(hook).toMatchObject({ status: 204, attempt: 1 });
    expect(receiver.verified).toEqual([expect.objectContaining({ type: 'order.paid', data: { id: 7 } })]);

    expect(message).toMatchObject({ chat_id: 1 });
    expect(document).toMatchObject({ chat_id: 2, file_id: 'BQACAgIAAxkBAAIB' });
    expect(setHook).toEqual({ ok: true, description: 'Webhook was set' });
    const setCall = telegram.requests.find((r) => r.path.endsWith('/setWebhook'))!;
    expect(setCall.path).toBe(`/bot${BOT_TOKEN}/setWebhook`);
    expect(setCall.json()).toMatchObject({ secret_token: 'hook-token-Abc_123' });

    expect(sendMail).toEqual({ accepted: true, from: 'noreply@contoso.com' });
    expect(list).toMatchObject({ messages: [{ id: 'AAMkAD1', subject: 'Invoice 42' }] });
    expect(teams).toMatchObject({ via: 'graph', messageId: '1616990032035' });
    expect(flow).toMatchObject({ via: 'workflow' });
    expect(graph.workflowPosts).toHaveLength(1);
    expect(email).toEqual({ provider: 'msgraph', degraded: false });
    expect(graph.sent.map((s) => s.mailbox)).toEqual(['noreply@contoso.com', 'noreply@contoso.com']);
  });

  it("retries Telegram's 429 after its retry_after, then succeeds", async () => {
    telegram.enqueue(telegramFloodWait(1));
    expectRetriedAfter(await engine.runToEnd('WF-810'), 1000);
  });

  it('fails a 401 as an auth error, without retrying', async () => {
    const before = telegram.requests.length;
    expectAuthFailure(await engine.runToEnd('WF-802', {}, 'globex'));
    expect(telegram.requests.length - before).toBe(1);
    expectAuthFailure(await engine.runToEnd('WF-807', {}, 'globex'));
  });
});
