/**
 * The catalogue's loops and knowledge-base workflows end to end: a health round over the
 * tenant's endpoints, a nightly ingest of web pages that a Telegram bot then answers from,
 * overdue invoice reminders, the storage and knowledge-base checks, asserting what reached
 * the fake sites, Telegram, OpenAI and Resend, and what Atlas stored.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeServer, json, startFake } from '../fakes/server.ts';
import { telegramParams } from '../fakes/telegram.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { type CatalogueEngine, startCatalogueEngine } from './harness.ts';

const database = useTestDatabase();
let atlas: CatalogueEngine;
/** The tenant's own website and services. */
let site: FakeServer;

beforeAll(async () => {
  atlas = await startCatalogueEngine(database.url);
  site = await startFake((req) => {
    if (req.path === '/health') return json(200, { ok: true });
    if (req.path === '/down') return json(503, { ok: false });
    if (req.path === '/refunds')
      return {
        status: 200,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: 'Refund policy\n\nRefunds are paid within 14 days to the card used for the order.',
      };
    return json(404, { error: 'not found' });
  });
  await atlas.tenant('acme', {
    secrets: {
      OPS_TELEGRAM_CHAT: '-100701',
      FINANCE_TELEGRAM_CHAT: '-100702',
      OPS_EMAIL: 'ops@acme.example',
    },
    enable: {
      'WF-002': { endpoints: [`${site.url}/health`, `${site.url}/down`, 'http://127.0.0.1:9/closed'] },
      'WF-004': { warnMb: 0.001 },
      'WF-005': { probeQuestion: 'How are refunds paid?' },
      'WF-086': {},
      'WF-090': { pages: [`${site.url}/refunds`, `${site.url}/gone`] },
    },
  });
}, 60_000);
afterAll(async () => {
  await atlas?.close();
  await site?.close();
});

const start = (workflowId: string) =>
  atlas.engine.services.runtime.runtime.trigger({ tenantId: 'acme', workflowId, input: {} });
const telegramTo = async (chat: string | number) =>
  (await Promise.all(atlas.fakes.telegram.requests.map(telegramParams))).filter((p) => p['chat_id'] === chat);

describe('loops and the knowledge base', () => {
  it('WF-002: one health round requests every endpoint and reports the failing ones in order', async () => {
    await start('WF-002');
    const run = await atlas.succeeded('acme', 'WF-002');
    expect(site.requests.filter((r) => r.path === '/health' || r.path === '/down')).toHaveLength(2);
    expect(run.output).toEqual({ failing: 2, answers: '200, 503, unreachable' });
    const [alert] = await telegramTo('-100701');
    expect(String(alert!['text'])).toMatch(/^Health round: 2 endpoint\(s\) failing\./);
    expect(String(alert!['text'])).toContain(`Answers, in the same order: 200, 503, unreachable.`);
  });

  it('WF-090 then WF-086: the nightly ingest loads the pages, and the bot answers from them', async () => {
    await start('WF-090');
    const ingest = await atlas.succeeded('acme', 'WF-090');
    expect(ingest.output).toEqual({ changed: 1, failed: 1 });
    const docs = await database.db('kb_documents').where({ tenant_id: 'acme' }).orderBy('source_key');
    expect(docs.map((d: { source_key: string; status: string }) => `${d.status} ${d.source_key}`)).toEqual([
      `failed ${site.url}/gone`,
      `ready ${site.url}/refunds`,
    ]);
    expect((await telegramTo('-100701')).map((p) => p['text'])).toContainEqual(
      'Knowledge-base ingest: 1 page(s) failed. Results in the order of config pages: created, failed.',
    );

    const update = (id: number, text: string) =>
      atlas.telegramUpdate('acme', {
        update_id: id,
        message: { message_id: id, date: 1764400000, chat: { id: 5550777, type: 'private' }, text },
      });
    expect((await update(1, '/help')).headers.get('atlas-webhook-note')).toMatch(/no run/);
    expect((await update(2, 'How long do refunds take?')).status).toBe(200);
    const answer = await atlas.succeeded('acme', 'WF-086');
    expect(answer.output).toEqual({ passages: 1 });
    const asked = atlas.fakes.openai.requests.at(-1)!.json() as { messages: Array<{ content: string }> };
    expect(asked.messages[0]!.content).toContain('Refunds are paid within 14 days');
    expect(asked.messages[1]!.content).toBe('How long do refunds take?');
    expect(await telegramTo(5550777)).toEqual([
      { chat_id: 5550777, reply_parameters: { message_id: 2 }, text: 'echo: How long do refunds take?' },
    ]);
  });

  it('WF-005: the knowledge-base check stays quiet while it finds an answer', async () => {
    await start('WF-005');
    const run = await atlas.succeeded('acme', 'WF-005');
    expect(run.output).toEqual({ found: 1 });
    expect(run.steps.find((s) => s.id === 'alert')!.status).toBe('skipped');
  });

  it('WF-092: overdue invoices get one reminder each; finance hears the total', async () => {
    const past = Math.floor(Date.now() / 1000) - 86_400;
    atlas.fakes.stripe.invoices.push(
      {
        id: 'in_late1',
        number: 'ACME-1',
        status: 'open',
        customer_email: 'a@example.com',
        due_date: past,
        amount_remaining: 4900,
      },
      {
        id: 'in_late2',
        number: 'ACME-2',
        status: 'open',
        customer_email: 'b@example.com',
        due_date: past,
        amount_remaining: 1000,
      },
      {
        id: 'in_soon',
        number: 'ACME-3',
        status: 'open',
        customer_email: 'c@example.com',
        due_date: past + 864_000,
        amount_remaining: 700,
      },
      { id: 'in_nomail', number: 'ACME-4', status: 'open', due_date: past, amount_remaining: 300 },
    );
    await start('WF-092');
    const run = await atlas.succeeded('acme', 'WF-092');
    expect(run.output).toEqual({ reminded: 2, due: 5900 });
    const subjects = atlas.fakes.resend.emails.map(
      (e) => `${JSON.stringify(e['to'])} ${String(e['subject'])}`,
    );
    expect(subjects.sort()).toEqual([
      '["a@example.com"] Invoice ACME-1 is overdue',
      '["b@example.com"] Invoice ACME-2 is overdue',
    ]);
    const [summary] = await telegramTo('-100702');
    expect(String(summary!['text'])).toMatch(/^Open invoice reminders: 2 sent, 0 failed, 5900 /);
  });

  it('WF-004: the storage warning mails operations once stored files pass the level', async () => {
    await atlas.engine.services.files.upload('acme', 'test', {
      name: 'catalogue.txt',
      contentType: 'text/plain',
      body: Readable.from([Buffer.alloc(4000, 'a')]),
    });
    await start('WF-004');
    const run = await atlas.succeeded('acme', 'WF-004');
    expect(run.output).toEqual({ bytes: 4000 });
    const [mail] = atlas.fakes.resend.emails.filter((e) =>
      JSON.stringify(e['to']).includes('ops@acme.example'),
    );
    expect(mail!['subject']).toBe('Atlas file storage above 0.001 MB');
    expect(String(mail!['text'])).toMatch(/Your 1 newest files in Atlas take 4000 bytes/);
  });
});
