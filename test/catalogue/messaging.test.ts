/**
 * Messaging, knowledge-base and lead workflows of the catalogue end to end: Telegram updates
 * through the engine's Telegram route, manual runs through the runtime, asserting what reached
 * the fake Telegram, OpenAI, Teams, Stripe, Resend and the tenant's webhook endpoint.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telegramParams } from '../fakes/telegram.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { type CatalogueEngine, HOOK_SECRET, startCatalogueEngine } from './harness.ts';

const database = useTestDatabase();
let atlas: CatalogueEngine;
let faqId: string;
let offerId: string;

beforeAll(async () => {
  atlas = await startCatalogueEngine(database.url);
  const { graph, hooks } = atlas.fakes;
  await atlas.tenant('acme', {
    secrets: {
      TEAMS_SUPPORT_WEBHOOK_URL: `${graph.url}/workflows/support?sig=supportSig`,
      CRM_WEBHOOK_SECRET: HOOK_SECRET,
    },
    enable: { 'WF-046': {}, 'WF-047': { crmWebhookUrl: `${hooks.url}/leads` } },
  });
  const { files } = atlas.engine.services;
  const put = async (name: string, text: string, contentType: string) =>
    (await files.upload('acme', 'test', { name, contentType, body: Readable.from([Buffer.from(text)]) })).id;
  faqId = await put('faq.txt', 'Delivery: Monday to Saturday. Sundays: closed.', 'text/plain');
  offerId = await put('offer.txt', 'Offer: 200 pastries, 300 EUR.', 'text/plain');
  await atlas.engine.services.runtime.runtime.setWorkflowState('acme', 'WF-034', {
    enabled: true,
    config: { faqFileId: faqId },
  });
}, 60_000);
afterAll(async () => {
  await atlas?.close();
});

const update = (id: number, text: string) => ({
  update_id: id,
  message: {
    message_id: 77,
    date: 1764400000,
    chat: { id: 5550001, type: 'private' },
    from: { id: 5550001, is_bot: false, first_name: 'Lin' },
    text,
  },
});

describe('messaging and leads', () => {
  it('WF-034 and WF-046: a customer message is answered from the FAQ and forwarded to support', async () => {
    const res = await atlas.telegramUpdate('acme', update(918273645, 'Do you deliver on Sundays?'));
    expect(res.status).toBe(200);
    const [faq] = await atlas.finished('acme', 'WF-034');
    expect(faq!.status, JSON.stringify(faq!.error)).toBe('succeeded');
    const [forward] = await atlas.finished('acme', 'WF-046');
    expect(forward!.status, JSON.stringify(forward!.error)).toBe('succeeded');

    const completion = atlas.fakes.openai.requests.find((r) => r.path.endsWith('/chat/completions'))!;
    const body = completion.json() as { messages: Array<{ role: string; content: string }> };
    expect(body.messages[0]!.content).toContain('Delivery: Monday to Saturday. Sundays: closed.');
    expect(body.messages[1]).toEqual({ role: 'user', content: 'Do you deliver on Sundays?' });

    const sent = await Promise.all(atlas.fakes.telegram.requests.map(telegramParams));
    expect(sent).toContainEqual(
      expect.objectContaining({
        chat_id: 5550001,
        reply_parameters: { message_id: 77 },
        text: 'echo: Do you deliver on Sundays?',
      }),
    );
    expect(sent).toContainEqual(
      expect.objectContaining({
        chat_id: 5550001,
        text: 'Thanks, we got your message and will answer here soon.',
      }),
    );
    expect(JSON.stringify(atlas.fakes.graph.workflowPosts)).toContain(
      'Telegram from Lin (chat 5550001): Do you deliver on Sundays?',
    );
  });

  it('an update without text (a sticker) starts neither', async () => {
    const res = await atlas.telegramUpdate('acme', {
      update_id: 918273646,
      message: { message_id: 78, date: 1764400001, chat: { id: 5550001, type: 'private' }, sticker: {} },
    });
    expect(res.headers.get('atlas-webhook-note')).toContain('is false for this event');
  });

  it('WF-047: a lead becomes a Stripe customer and a signed CRM event, and is thanked', async () => {
    const { runtime } = atlas.engine.services.runtime;
    await runtime.trigger({
      tenantId: 'acme',
      workflowId: 'WF-047',
      input: { name: 'Lin Chen', email: 'lin@example.com', company: 'Chen Events', message: '200 pastries' },
    });
    const [run] = await atlas.finished('acme', 'WF-047');
    expect(run!.status, JSON.stringify(run!.error)).toBe('succeeded');
    const customer = atlas.fakes.stripe.requests.find((r) => r.path === '/v1/customers')!;
    expect(new URLSearchParams(customer.text()).get('email')).toBe('lin@example.com');
    const [lead] = atlas.fakes.hooks.verified as Array<{ type: string; data: Record<string, string> }>;
    expect(lead).toMatchObject({
      type: 'lead.created',
      data: { email: 'lin@example.com', company: 'Chen Events' },
    });
    expect(lead!.data['stripeCustomer']).toMatch(/^cus_/);
    expect(atlas.fakes.resend.emails.map((e) => e['subject'])).toContain('Thanks for getting in touch');
  });

  it('WF-048: a stored file is shared by a signed link that downloads it', async () => {
    const { runtime } = atlas.engine.services.runtime;
    await runtime.trigger({
      tenantId: 'acme',
      workflowId: 'WF-048',
      input: { fileId: offerId, to: 'grace@example.com', ttl: '1h', subject: 'Your offer' },
    });
    const [run] = await atlas.finished('acme', 'WF-048');
    expect(run!.status, JSON.stringify(run!.error)).toBe('succeeded');
    const mail = atlas.fakes.resend.emails.find((e) =>
      JSON.stringify(e['to']).includes('grace@example.com'),
    )!;
    expect(mail['subject']).toBe('Your offer');
    const link = /href="([^"]+)"/.exec(String(mail['html']))![1]!;
    // ATLAS_PUBLIC_URL is unset here: the link names port 0; the engine listens on atlas.url.
    const download = await fetch(new URL(new URL(link).pathname + new URL(link).search, atlas.url));
    expect(download.status).toBe(200);
    expect(await download.text()).toBe('Offer: 200 pastries, 300 EUR.');
  });
});
