/**
 * The catalogue's durable waits and approvals end to end: runs park in `core.sleep`,
 * `core.waitUntil` and `core.waitForSignal`, an approver signals them over the API, and the
 * test asserts what reached the fake Telegram, Resend, Stripe and social networks (and what
 * did not, when nobody approved or the customer paid in between).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenSource } from '../connectors/in-workflow.ts';
import { TOKENS } from '../fakes/social.ts';
import { telegramParams } from '../fakes/telegram.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { waitFor } from '../helpers/poll.ts';
import { type CatalogueEngine, startCatalogueEngine, stripeEventOf } from './harness.ts';

const database = useTestDatabase();
let atlas: CatalogueEngine;

beforeAll(async () => {
  atlas = await startCatalogueEngine(database.url, {
    tokens: tokenSource({ acme: { x: TOKENS.x, linkedin: TOKENS.linkedin } }),
  });
  await atlas.tenant('acme', {
    secrets: {
      ONCALL_TELEGRAM_CHAT: '-100601',
      OPS_TELEGRAM_CHAT: '-100602',
      OWNER_EMAIL: 'owner@acme.example',
      TEAM_TELEGRAM_CHAT: '-100603',
      FINANCE_TELEGRAM_CHAT: '-100604',
      MARKETING_TELEGRAM_CHAT: '-100605',
      SUPPORT_TELEGRAM_CHAT: '-100606',
      OWNER_TELEGRAM_CHAT: '-100607',
    },
    enable: {
      'WF-087': { pause: '2s' },
      'WF-088': { linkedinAuthor: 'urn:li:organization:2414183' },
      'WF-089': { guidelines: 'Short and friendly; replace damaged goods on a photo.' },
      'WF-091': { timeZone: 'Europe/Paris' },
    },
  });
}, 60_000);
afterAll(async () => {
  await atlas?.close();
});

const run = (workflowId: string, input: Record<string, unknown>) =>
  atlas.engine.services.runtime.runtime.trigger({ tenantId: 'acme', workflowId, input, actor: 'owner@acme' });
const telegramTexts = async (chat: string) =>
  (await Promise.all(atlas.fakes.telegram.requests.map(telegramParams)))
    .filter((p) => p['chat_id'] === chat)
    .map((p) => String(p['text']).trim());
const mailsTo = (address: string) =>
  atlas.fakes.resend.emails.filter((e) => JSON.stringify(e['to']).includes(address));
const finishedRun = async (runId: string) => {
  const { runtime } = atlas.engine.services.runtime;
  await waitFor(
    async () => ['succeeded', 'failed'].includes((await runtime.getRun('acme', runId))!.status),
    30_000,
  );
  return (await runtime.getRun('acme', runId))!;
};
const stepStatus = (detail: { steps: Array<{ id: string; status: string }> }, id: string) =>
  detail.steps.find((s) => s.id === id)?.status;

describe('waits and approvals', () => {
  it('WF-003: an acknowledged page stops there; an unacknowledged one escalates', async () => {
    const { run: acked } = await run('WF-003', {
      alert: 'Checkout answers 502',
      source: 'monitor',
      ackWithin: '1h',
    });
    await atlas.parkedAt('acme', 'WF-003', 'ack');
    expect((await atlas.signal('acme', acked.id, 'ack', { by: 'sam' })).status).toBe(202);
    const done = await finishedRun(acked.id);
    expect(done.status).toBe('succeeded');
    expect(done.output).toEqual({ escalated: false, acknowledgedBy: 'sam' });

    const { run: ignored } = await run('WF-003', { alert: 'Disk full on the shop', ackWithin: '1s' });
    const escalated = await finishedRun(ignored.id);
    expect(escalated.status, JSON.stringify(escalated.error)).toBe('succeeded');
    expect(escalated.output).toEqual({ escalated: true, acknowledgedBy: null });

    expect(await telegramTexts('-100601')).toEqual([
      expect.stringMatching(/^ALERT from monitor: Checkout answers 502/),
      expect.stringMatching(/^ALERT from Atlas: Disk full on the shop/),
    ]);
    expect(await telegramTexts('-100602')).toEqual([
      'Escalated, not acknowledged by on-call: Disk full on the shop',
    ]);
    expect(mailsTo('owner@acme.example').map((m) => m['subject'])).toEqual([
      'Unacknowledged alert: Disk full on the shop',
    ]);
  });

  it('WF-006: the reminder and the end notice wait for their times', async () => {
    const now = Date.now();
    const start = new Date(now + 3_600_000 + 2_000).toISOString();
    const end = new Date(now + 4_000).toISOString();
    const { run: maintenance } = await run('WF-006', { start, end, what: 'The shop is read-only.' });
    await atlas.parkedAt('acme', 'WF-006', 'hourBefore');
    expect(await telegramTexts('-100603')).toEqual([
      expect.stringMatching(/^Planned maintenance from .*The shop is read-only\.$/),
    ]);
    const done = await finishedRun(maintenance.id);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    // The last notice left only once the end had come.
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(end));
    const texts = await telegramTexts('-100603');
    expect(texts.slice(1)).toEqual([
      expect.stringMatching(/^Maintenance starts in an hour, at .* UTC: The shop is read-only\.$/),
      'Maintenance is over: The shop is read-only.',
    ]);
  });

  it('WF-087: dunning reminds while the invoice is open and stops once it is paid', async () => {
    atlas.fakes.stripe.invoices.push(
      { id: 'in_dun_paid', object: 'invoice', customer: 'cus_dun1', status: 'open' },
      { id: 'in_dun_open', object: 'invoice', customer: 'cus_dun2', status: 'open' },
    );
    const failed = (id: string, customer: string, email: string) =>
      stripeEventOf('invoice.payment_failed', {
        id,
        customer,
        customer_email: email,
        number: id.toUpperCase(),
        amount_due: 4900,
        currency: 'eur',
        attempt_count: 1,
        hosted_invoice_url: `https://invoice.stripe.com/i/${id}`,
      });
    expect(
      (await atlas.stripeEvent('acme', failed('in_dun_paid', 'cus_dun1', 'pays@example.com'))).status,
    ).toBe(200);
    expect(
      (await atlas.stripeEvent('acme', failed('in_dun_open', 'cus_dun2', 'never@example.com'))).status,
    ).toBe(200);
    // The first customer pays once the second reminder is out.
    await waitFor(
      async () => mailsTo('pays@example.com').some((m) => /^Reminder/.test(String(m['subject']))),
      30_000,
    );
    atlas.fakes.stripe.invoices.find((i) => i['id'] === 'in_dun_paid')!['status'] = 'paid';
    const runs = await atlas.finished('acme', 'WF-087', 2);
    for (const r of runs) expect(r.status, JSON.stringify(r.error)).toBe('succeeded');

    const subjects = (address: string) => mailsTo(address).map((m) => String(m['subject']));
    expect(subjects('pays@example.com').filter((s) => !/did not go through/.test(s))).toEqual([
      'Reminder: invoice IN_DUN_PAID (in_dun_paid) is still open',
    ]);
    expect(subjects('never@example.com').filter((s) => !/did not go through/.test(s))).toEqual([
      'Reminder: invoice IN_DUN_OPEN (in_dun_open) is still open',
      'Final notice: invoice IN_DUN_OPEN (in_dun_open)',
    ]);
    expect(await telegramTexts('-100604')).toContain(
      'Invoice in_dun_open of never@example.com is unpaid after the final notice: call the customer.',
    );
    // Each check asked Stripe for the customer's open invoices.
    const checks = atlas.fakes.stripe.requests.filter((r) => r.path === '/v1/invoices' && r.method === 'GET');
    expect(checks.map((r) => `${r.query.get('customer')}:${r.query.get('status')}`).sort()).toEqual([
      'cus_dun1:open',
      'cus_dun1:open',
      'cus_dun2:open',
      'cus_dun2:open',
    ]);
  });

  it('WF-088: an approved post goes to X and LinkedIn; a refused one goes nowhere', async () => {
    const { run: approved } = await run('WF-088', {
      text: 'Winter hours from Monday.',
      link: 'https://acme.example/hours',
    });
    await atlas.parkedAt('acme', 'WF-088', 'approval');
    expect(atlas.fakes.social.requests).toHaveLength(0);
    await atlas.signal('acme', approved.id, 'approval', { approved: true, text: 'Winter hours: 9 to 17.' });
    const posted = await finishedRun(approved.id);
    expect(posted.status, JSON.stringify(posted.error)).toBe('succeeded');
    expect(posted.output).toEqual({ approved: true, x: 'succeeded', linkedin: 'succeeded' });
    const tweet = atlas.fakes.social.requests.find((r) => r.path === '/x/2/tweets')!;
    expect(tweet.json()).toEqual({ text: 'Winter hours: 9 to 17. https://acme.example/hours' });
    const share = atlas.fakes.social.requests.find((r) => r.path === '/linkedin/rest/posts')!;
    expect(share.json()).toMatchObject({
      author: 'urn:li:organization:2414183',
      commentary: 'Winter hours: 9 to 17. https://acme.example/hours',
    });

    const { run: refused } = await run('WF-088', { text: 'Half price on everything!' });
    await atlas.parkedAt('acme', 'WF-088', 'approval');
    await atlas.signal('acme', refused.id, 'approval', { approved: false });
    const kept = await finishedRun(refused.id);
    expect(kept.output).toEqual({ approved: false, x: 'skipped', linkedin: 'skipped' });
    expect(atlas.fakes.social.requests).toHaveLength(2);
    expect(await telegramTexts('-100605')).toEqual([
      expect.stringMatching(
        /^Post waiting for approval .* Winter hours from Monday\. https:\/\/acme\.example\/hours$/s,
      ),
      'Approved: true. X: succeeded, LinkedIn: succeeded.',
      expect.stringMatching(/Half price on everything!/),
      'Approved: false. X: skipped, LinkedIn: skipped.',
    ]);
  });

  it('WF-089: the customer gets the reply only once it is approved, as edited', async () => {
    const { run: reply } = await run('WF-089', {
      email: 'mia@example.com',
      message: 'My cake arrived squashed.',
    });
    const parked = await atlas.parkedAt('acme', 'WF-089', 'approval');
    expect(stepStatus(parked, 'send')).toBe('pending');
    expect(mailsTo('mia@example.com')).toHaveLength(0);
    const draft = atlas.fakes.openai.requests.find((r) => JSON.stringify(r.json()).includes('squashed'))!;
    expect(JSON.stringify(draft.json())).toContain('replace damaged goods on a photo');
    expect(await telegramTexts('-100606')).toEqual([
      expect.stringMatching(/echo: My cake arrived squashed\.$/),
    ]);
    await atlas.signal('acme', reply.id, 'approval', {
      approved: true,
      text: 'Sorry Mia! A new cake is on its way.',
    });
    const done = await finishedRun(reply.id);
    expect(done.output).toEqual({ sent: true });
    expect(mailsTo('mia@example.com').map((m) => m['text'])).toEqual([
      'Sorry Mia! A new cake is on its way.',
    ]);
  });

  it('WF-091: the reminder and the follow-up draft go out at their times', async () => {
    // A meeting that is already over: both waits end at once, in order.
    const start = new Date(Date.now() - 5 * 3_600_000);
    start.setUTCSeconds(0, 0);
    const end = new Date(start.getTime() + 30 * 60_000);
    const { run: meeting } = await run('WF-091', {
      email: 'guest@example.com',
      topic: 'Spring catalogue',
      start: start.toISOString(),
      end: end.toISOString(),
    });
    const done = await finishedRun(meeting.id);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    const when = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Paris',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(start);
    const [reminder] = mailsTo('guest@example.com');
    expect(String(reminder!['subject'])).toMatch(
      new RegExp(`^Reminder: Spring catalogue, \\w+ \\d+ \\w+, ${when}$`),
    );
    expect(await telegramTexts('-100607')).toEqual([
      'Follow-up for guest@example.com (Spring catalogue), to send on: echo: Meeting topic: Spring catalogue',
    ]);
    const waited = done.steps.find((s) => s.id === 'afterMeeting')!;
    expect(waited.attempts.at(-1)!.output).toEqual({
      until: new Date(end.getTime() + 2 * 3_600_000).toISOString(),
    });
  });
});
