/**
 * The payment workflows of the catalogue, end to end: a signed Stripe event reaches the
 * engine's webhook route, the run executes on the worker, and the test reads what reached the
 * fake providers (Resend, Telegram, the Teams workflow URL, the tenant's ledger).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telegramParams } from '../fakes/telegram.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { type CatalogueEngine, startCatalogueEngine, stripeEventOf } from './harness.ts';

const database = useTestDatabase();
let atlas: CatalogueEngine;

beforeAll(async () => {
  atlas = await startCatalogueEngine(database.url);
  const { receiver, graph } = atlas.fakes;
  await atlas.tenant('acme', {
    secrets: {
      FINANCE_TELEGRAM_CHAT: '-100777',
      OPS_TELEGRAM_CHAT: '-100555',
      TEAMS_SUPPORT_WEBHOOK_URL: `${graph.url}/workflows/support?sig=supportSig`,
      LEDGER_API_TOKEN: 'ledger-token-acme',
    },
    enable: { 'WF-020': { ledgerUrl: `${receiver.url}/ledger` }, 'WF-023': {} },
  });
  await atlas.tenant('bare');
}, 60_000);
afterAll(async () => {
  await atlas?.close();
});

const telegramTo = async (chat: string) => {
  const out: Array<Record<string, unknown>> = [];
  for (const r of atlas.fakes.telegram.requests) {
    const p = await telegramParams(r);
    if (String(p['chat_id']) === chat) out.push(p);
  }
  return out;
};

describe('payments', () => {
  it('WF-022: a failed invoice payment mails the customer the pay link and tells finance, with no row', async () => {
    const res = await atlas.stripeEvent(
      'acme',
      stripeEventOf('invoice.payment_failed', {
        id: 'in_fail_1',
        object: 'invoice',
        number: 'ACME-0042',
        amount_due: 12900,
        currency: 'eur',
        customer: 'cus_grace',
        customer_email: 'grace@example.com',
        customer_name: 'Grace',
        attempt_count: 2,
        hosted_invoice_url: 'https://invoice.stripe.com/i/acct_1/test_fail_1',
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('atlas-webhook-note')).toBeNull();
    const [run] = await atlas.finished('acme', 'WF-022');
    expect(run!.status, JSON.stringify(run!.error)).toBe('succeeded');
    const mail = atlas.fakes.resend.emails.find((e) =>
      JSON.stringify(e['to']).includes('grace@example.com'),
    )!;
    expect(mail).toMatchObject({
      subject: 'Your payment did not go through',
      from: 'Acme <billing@acme.example>',
    });
    expect(String(mail['html'])).toContain('https://invoice.stripe.com/i/acct_1/test_fail_1');
    expect(String(mail['html'])).toContain('ACME-0042');
    const [finance] = await telegramTo('-100777');
    expect(finance!['text']).toBe(
      'Payment failed: invoice in_fail_1 of customer cus_grace, 12900 eur (cents), attempt 2.',
    );
  });

  it('WF-022 skips a tenant without the finance chat, and says why', async () => {
    const res = await atlas.stripeEvent(
      'bare',
      stripeEventOf('invoice.payment_failed', {
        id: 'in_fail_2',
        amount_due: 500,
        currency: 'eur',
        customer: 'c',
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('atlas-webhook-note')).toBe(
      'accepted, no run: WF-022 is skipped for tenant bare: tenant secret FINANCE_TELEGRAM_CHAT is not set',
    );
  });

  it('WF-023: a refund is posted to the support channel through the Teams workflow URL', async () => {
    await atlas.stripeEvent(
      'acme',
      stripeEventOf('charge.refunded', {
        id: 'ch_ref_1',
        object: 'charge',
        amount: 5000,
        amount_refunded: 2500,
        currency: 'usd',
        receipt_email: 'buyer@example.com',
      }),
    );
    const [run] = await atlas.finished('acme', 'WF-023');
    expect(run!.status, JSON.stringify(run!.error)).toBe('succeeded');
    expect(JSON.stringify(atlas.fakes.graph.workflowPosts)).toContain(
      'Refunded 2500 of 5000 usd (cents) on charge ch_ref_1 for buyer@example.com.',
    );
  });

  it('WF-020: a paid invoice is forwarded to the ledger with its token', async () => {
    await atlas.stripeEvent(
      'acme',
      stripeEventOf('invoice.paid', { id: 'in_paid_1', amount_paid: 4900, currency: 'eur' }),
    );
    const [run] = await atlas.finished('acme', 'WF-020');
    expect(run!.status, JSON.stringify(run!.error)).toBe('succeeded');
    const call = atlas.fakes.receiver.requests.find((r) => r.path === '/ledger/invoices')!;
    expect(call.header('authorization')).toBe('Bearer ledger-token-acme');
    expect(call.json()).toMatchObject({ invoice: 'in_paid_1', amount: 4900, currency: 'eur' });
  });

  it('WF-082: a failed daily digest alerts the operations chat, by default', async () => {
    const { run } = await atlas.engine.services.runtime.runtime.trigger({
      tenantId: 'acme',
      workflowId: 'WF-010',
      input: { statusUrl: `${atlas.fakes.receiver.url}/status` },
    });
    const [digest] = await atlas.finished('acme', 'WF-010');
    expect(digest!.status).toBe('failed');
    const [alert] = await atlas.finished('acme', 'WF-082');
    expect(alert!.status, JSON.stringify(alert!.error)).toBe('succeeded');
    const [sent] = await telegramTo('-100555');
    expect(sent!['text']).toBe(
      `The daily digest failed (run ${run.id}). Open the run in Atlas to see the failed step and retry it.`,
    );
  });

  it('WF-079 and WF-080: an expired checkout gets its recovery link mailed; a closed dispute reaches finance', async () => {
    await atlas.engine.services.runtime.runtime.setWorkflowState('acme', 'WF-079', { enabled: true });
    await atlas.engine.services.runtime.runtime.setWorkflowState('acme', 'WF-080', { enabled: true });
    const noLink = await atlas.stripeEvent(
      'acme',
      stripeEventOf('checkout.session.expired', {
        id: 'cs_x',
        customer_details: { email: 'kim@example.com' },
      }),
    );
    expect(noLink.headers.get('atlas-webhook-note')).toContain('the trigger `if` of WF-079 is false');
    await atlas.stripeEvent(
      'acme',
      stripeEventOf('checkout.session.expired', {
        id: 'cs_y',
        customer_details: { email: 'kim@example.com' },
        after_expiration: { recovery: { url: 'https://buy.stripe.com/r/test_abc' } },
      }),
    );
    await atlas.stripeEvent(
      'acme',
      stripeEventOf('charge.dispute.closed', {
        charge: 'ch_d',
        status: 'won',
        amount: 9000,
        currency: 'eur',
      }),
    );
    const [recovery] = await atlas.finished('acme', 'WF-079');
    expect(recovery!.status, JSON.stringify(recovery!.error)).toBe('succeeded');
    const [outcome] = await atlas.finished('acme', 'WF-080');
    expect(outcome!.status, JSON.stringify(outcome!.error)).toBe('succeeded');
    const mails = atlas.fakes.resend.emails.filter((e) =>
      JSON.stringify(e['to']).includes('kim@example.com'),
    );
    expect(mails.map((m) => m['text'])).toEqual([
      'Your order was not completed. You can finish it here: https://buy.stripe.com/r/test_abc',
    ]);
    expect((await telegramTo('-100777')).map((m) => m['text'])).toContain(
      'Dispute on charge ch_d closed: won (9000 eur, cents).',
    );
  });
});
