/**
 * Bot onboarding, subscriber and write-off notices, knowledge-base embedding and webhook
 * pings of the catalogue end to end, asserting what reached the fake Telegram, Teams, Resend,
 * OpenAI and the tenant's Standard Webhooks endpoint, and what Atlas stored.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telegramParams } from '../fakes/telegram.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { type CatalogueEngine, HOOK_SECRET, startCatalogueEngine, stripeEventOf } from './harness.ts';

const database = useTestDatabase();
let atlas: CatalogueEngine;

beforeAll(async () => {
  atlas = await startCatalogueEngine(database.url);
  await atlas.tenant('acme', {
    secrets: {
      SALES_TELEGRAM_CHAT: '-100333',
      TEAMS_SALES_WEBHOOK_URL: `${atlas.fakes.graph.url}/workflows/sales?sig=salesSig`,
      OWNER_EMAIL: 'owner@acme.example',
      MY_HOOK_SECRET: HOOK_SECRET,
      ORDERS_WEBHOOK_SECRET: HOOK_SECRET,
      FINANCE_TELEGRAM_CHAT: '-100444',
    },
    enable: {
      'WF-065': { welcome: 'Welcome to Acme Bakery!' },
      'WF-069': {},
      'WF-070': {},
      'WF-076': { ordersWebhookUrl: `${atlas.fakes.hooks.url}/orders` },
      'WF-077': {},
    },
  });
}, 60_000);
afterAll(async () => {
  await atlas?.close();
});

const succeeded = (workflowId: string) => atlas.succeeded('acme', workflowId);

describe('operations', () => {
  it('WF-065: /start greets the new contact and tells sales', async () => {
    await atlas.telegramUpdate('acme', {
      update_id: 918273700,
      message: {
        message_id: 1,
        date: 1764400000,
        chat: { id: 5550002, type: 'private' },
        from: { id: 5550002, is_bot: false, first_name: 'Ola', username: 'ola_n' },
        text: '/start',
      },
    });
    await succeeded('WF-065');
    const sent = await Promise.all(atlas.fakes.telegram.requests.map(telegramParams));
    expect(sent).toContainEqual(
      expect.objectContaining({ chat_id: 5550002, text: 'Welcome to Acme Bakery!' }),
    );
    expect(sent).toContainEqual(
      expect.objectContaining({ chat_id: '-100333', text: 'New bot contact: Ola (@ola_n)' }),
    );
  });

  it('WF-069 and WF-070: a new subscriber reaches sales, a written-off invoice the owner', async () => {
    await atlas.stripeEvent(
      'acme',
      stripeEventOf('customer.subscription.created', {
        id: 'sub_new',
        customer: 'cus_new',
        status: 'trialing',
        items: { data: [{ price: { nickname: 'Bread box weekly' } }] },
      }),
    );
    await atlas.stripeEvent(
      'acme',
      stripeEventOf('invoice.marked_uncollectible', {
        id: 'in_bad',
        number: 'ACME-0031',
        customer: 'cus_bad',
        amount_remaining: 7900,
        currency: 'eur',
      }),
    );
    await succeeded('WF-069');
    await succeeded('WF-070');
    expect(JSON.stringify(atlas.fakes.graph.workflowPosts)).toContain(
      'New subscriber cus_new on Bread box weekly (status trialing).',
    );
    const mail = atlas.fakes.resend.emails.find((e) =>
      JSON.stringify(e['to']).includes('owner@acme.example'),
    )!;
    expect(mail['subject']).toBe('Invoice ACME-0031 written off');
    expect(String(mail['text'])).toContain('7900 eur (cents) remain unpaid');
  });

  it('WF-064: a stored document gets its embedding stored beside it as JSON', async () => {
    const { files } = atlas.engine.services;
    const doc = await files.upload('acme', 'test', {
      name: 'returns.txt',
      contentType: 'text/plain',
      body: Readable.from([Buffer.from('Returns are accepted within 14 days.')]),
    });
    await atlas.engine.services.runtime.runtime.trigger({
      tenantId: 'acme',
      workflowId: 'WF-064',
      input: { fileId: doc.id },
    });
    await succeeded('WF-064');
    const call = atlas.fakes.openai.requests.find((r) => r.path.endsWith('/embeddings'))!;
    expect(call.json()).toMatchObject({
      model: 'text-embedding-3-small',
      input: 'Returns are accepted within 14 days.',
    });
    const [stored] = await files.list('acme', { prefix: 'kb-embedding-', limit: 10 });
    expect(stored!.name).toBe(`kb-embedding-${doc.id}.json`);
    const text = await new Response(
      Readable.toWeb(await files.open('acme', stored!)) as ReadableStream,
    ).text();
    expect(JSON.parse(text)).toEqual({
      source: doc.id,
      model: 'text-embedding-3-small',
      embedding: ['Returns are accepted within 14 days.'.length, 0, 0.5],
    });
  });

  it('WF-066: a ping reaches the endpoint signed with the named secret', async () => {
    await atlas.engine.services.runtime.runtime.trigger({
      tenantId: 'acme',
      workflowId: 'WF-066',
      input: { url: `${atlas.fakes.hooks.url}/mine`, secret: 'MY_HOOK_SECRET' },
    });
    await succeeded('WF-066');
    expect(atlas.fakes.hooks.verified).toContainEqual(
      expect.objectContaining({ type: 'atlas.ping', data: expect.objectContaining({ tenant: 'acme' }) }),
    );
  });

  it('WF-076 and WF-077: a Telegram order reaches the shop signed; a payout reaches finance', async () => {
    await atlas.telegramUpdate('acme', {
      update_id: 918273800,
      message: {
        message_id: 9,
        date: 1764400000,
        chat: { id: 5550003, type: 'private' },
        from: { id: 5550003, is_bot: false, first_name: 'Kim' },
        text: 'order 2 sourdough for Saturday',
      },
    });
    await atlas.stripeEvent(
      'acme',
      stripeEventOf('payout.paid', { id: 'po_1', amount: 182300, currency: 'eur', arrival_date: 1764460800 }),
    );
    await succeeded('WF-076');
    await succeeded('WF-077');
    expect(atlas.fakes.hooks.verified).toContainEqual(
      expect.objectContaining({
        type: 'telegram.order',
        data: { chatId: 5550003, from: 'Kim', text: 'order 2 sourdough for Saturday' },
      }),
    );
    const order = atlas.fakes.hooks.requests.find((r) => r.path === '/orders')!;
    expect(order.header('webhook-id')).toBe('telegram-918273800');
    const sent = await Promise.all(atlas.fakes.telegram.requests.map(telegramParams));
    expect(sent).toContainEqual(
      expect.objectContaining({
        chat_id: 5550003,
        text: 'Thank you, your order was received. We confirm it here shortly.',
      }),
    );
    expect(sent).toContainEqual(
      expect.objectContaining({
        chat_id: '-100444',
        text: 'Payout po_1: 182300 eur (cents), arriving 1764460800 (unix time).',
      }),
    );
  });
});
