/**
 * Billing and customer workflows of the catalogue end to end: Stripe events through the
 * webhook route, manual runs through the runtime, and event chains, asserting what reached
 * the fake Stripe, Resend, Telegram, Teams and the tenant's Standard Webhooks endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telegramParams } from '../fakes/telegram.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { type CatalogueEngine, HOOK_SECRET, startCatalogueEngine, stripeEventOf } from './harness.ts';

const database = useTestDatabase();
let atlas: CatalogueEngine;

beforeAll(async () => {
  atlas = await startCatalogueEngine(database.url);
  const { hooks, graph } = atlas.fakes;
  await atlas.tenant('acme', {
    secrets: {
      FINANCE_TELEGRAM_CHAT: '-100888',
      OPS_TELEGRAM_CHAT: '-100999',
      OPS_EMAIL: 'ops@acme.example',
      TEAMS_OPS_WEBHOOK_URL: `${graph.url}/workflows/ops?sig=opsSig`,
      CRM_WEBHOOK_SECRET: HOOK_SECRET,
      FULFILMENT_WEBHOOK_SECRET: HOOK_SECRET,
    },
    enable: {
      'WF-024': { crmWebhookUrl: `${hooks.url}/crm` },
      'WF-030': { teamName: 'Acme Bakery', supportUrl: 'https://acme.example/help' },
      'WF-032': { fulfilmentUrl: `${hooks.url}/orders` },
      'WF-033': {},
      'WF-027': { successUrl: 'https://acme.example/thanks' },
    },
  });
  await atlas.tenant('globex', {
    secrets: {
      CRM_WEBHOOK_SECRET: HOOK_SECRET,
      INCIDENT_WEBHOOK_SECRET: HOOK_SECRET,
      STRIPE_SECRET_KEY: 'sk_test_rolledRolledRolled000',
      OPS_EMAIL: 'ops@globex.example',
    },
    enable: {
      'WF-024': { crmWebhookUrl: `${hooks.url}/crm` },
      'WF-017': { incidentUrl: `${hooks.url}/incidents` },
    },
  });
}, 60_000);
afterAll(async () => {
  await atlas?.close();
});

const hookPaths = () => atlas.fakes.hooks.requests.map((r) => r.path);
const mailsTo = (address: string) =>
  atlas.fakes.resend.emails.filter((e) => JSON.stringify(e['to']).includes(address));
const succeeded = (tenant: string, workflowId: string) => atlas.succeeded(tenant, workflowId);

describe('billing and customers', () => {
  it('WF-024: a cancelled subscription reaches the CRM as a signed event with the reason', async () => {
    const event = stripeEventOf('customer.subscription.deleted', {
      id: 'sub_gone',
      object: 'subscription',
      customer: 'cus_gone',
      items: { data: [{ price: { nickname: 'Pro monthly' } }] },
      cancellation_details: { feedback: 'too_expensive', comment: 'Budget cut' },
    });
    await atlas.stripeEvent('acme', event);
    await succeeded('acme', 'WF-024');
    expect(atlas.fakes.hooks.verified).toContainEqual(
      expect.objectContaining({
        type: 'subscription.cancelled',
        data: {
          subscription: 'sub_gone',
          customer: 'cus_gone',
          plan: 'Pro monthly',
          reason: 'too_expensive',
          comment: 'Budget cut',
        },
      }),
    );
    const delivery = atlas.fakes.hooks.requests.find((r) => r.path === '/crm')!;
    expect(delivery.header('webhook-id')).toBe(event.id);
  });

  it('WF-017: a CRM delivery that fails for good is reported to the incident system', async () => {
    // The CRM answers 410 Gone: the delivery fails for good at once.
    atlas.fakes.hooks.enqueue({ status: 410 });
    await atlas.stripeEvent(
      'globex',
      stripeEventOf('customer.subscription.deleted', {
        id: 'sub_g',
        object: 'subscription',
        customer: 'cus_g',
      }),
    );
    const [crm] = await atlas.finished('globex', 'WF-024');
    expect(crm!.status).toBe('failed');
    await succeeded('globex', 'WF-017');
    expect(hookPaths()).toContain('/incidents');
    expect(atlas.fakes.hooks.verified).toContainEqual(
      expect.objectContaining({
        type: 'atlas.crm_sync_failed',
        data: { workflow: 'WF-024', runId: crm!.id, status: 'failed' },
      }),
    );
  });

  it('WF-029: a dispute alerts the finance chat by default', async () => {
    await atlas.stripeEvent(
      'acme',
      stripeEventOf('charge.dispute.created', {
        id: 'dp_1',
        charge: 'ch_disputed',
        amount: 9000,
        currency: 'eur',
        reason: 'fraudulent',
        evidence_details: { due_by: 1765000000 },
      }),
    );
    await succeeded('acme', 'WF-029');
    const sent = [];
    for (const r of atlas.fakes.telegram.requests) sent.push(await telegramParams(r));
    expect(sent).toContainEqual(
      expect.objectContaining({
        chat_id: '-100888',
        text: 'Dispute opened on charge ch_disputed: 9000 eur (cents), reason fraudulent. Evidence due by 1765000000 (unix time).',
      }),
    );
  });

  it('WF-030 and WF-033: a new customer is welcomed, a renewal announced, both by mail', async () => {
    await atlas.stripeEvent(
      'acme',
      stripeEventOf('customer.created', { id: 'cus_new', email: 'ada@example.com', name: 'Ada' }),
    );
    await atlas.stripeEvent(
      'acme',
      stripeEventOf('invoice.upcoming', {
        customer_email: 'grace@example.com',
        customer_name: 'Grace',
        amount_due: 2900,
        currency: 'eur',
        next_payment_attempt: 1765000000,
      }),
    );
    await succeeded('acme', 'WF-030');
    await succeeded('acme', 'WF-033');
    const [welcome] = mailsTo('ada@example.com');
    expect(welcome).toMatchObject({ subject: 'Welcome to Acme Bakery' });
    expect(String(welcome!['html'])).toContain('https://acme.example/help');
    const [renewal] = mailsTo('grace@example.com');
    expect(renewal).toMatchObject({ subject: 'Your subscription renews soon' });
    expect(String(renewal!['text'])).toContain('for 2900 eur (cents)');
  });

  it('WF-032: a paid checkout reaches fulfilment once, with the event id as message id', async () => {
    const unpaid = await atlas.stripeEvent(
      'acme',
      stripeEventOf('checkout.session.completed', { id: 'cs_unpaid', payment_status: 'unpaid' }),
    );
    expect(unpaid.headers.get('atlas-webhook-note')).toContain('the trigger `if` of WF-032, WF-059 is false');
    await atlas.stripeEvent(
      'acme',
      stripeEventOf('checkout.session.completed', {
        id: 'cs_paid',
        payment_status: 'paid',
        amount_total: 9000,
        currency: 'eur',
        customer_details: { email: 'grace@example.com' },
        metadata: { order: '1042' },
      }),
    );
    await succeeded('acme', 'WF-032');
    expect(atlas.fakes.hooks.verified).toContainEqual(
      expect.objectContaining({
        type: 'order.paid',
        data: {
          checkoutSession: 'cs_paid',
          email: 'grace@example.com',
          amount: 9000,
          currency: 'eur',
          metadata: { order: '1042' },
        },
      }),
    );
  });

  it('WF-027 and WF-028: a payment link is created and mailed; a new customer is invoiced', async () => {
    const { runtime } = atlas.engine.services.runtime;
    await runtime.trigger({
      tenantId: 'acme',
      workflowId: 'WF-027',
      input: { email: 'buyer@example.com', item: 'Wedding cake', amount: 15000, currency: 'eur' },
    });
    await succeeded('acme', 'WF-027');
    const session = atlas.fakes.stripe.requests.find((r) => r.path === '/v1/checkout/sessions')!;
    const form = new URLSearchParams(session.text());
    expect(form.get('line_items[0][price_data][unit_amount]')).toBe('15000');
    expect(form.get('line_items[0][price_data][product_data][name]')).toBe('Wedding cake');
    expect(form.get('customer_email')).toBe('buyer@example.com');
    const [link] = mailsTo('buyer@example.com');
    expect(String(link!['html'])).toContain('https://checkout.stripe.com/c/pay/');

    await runtime.trigger({
      tenantId: 'acme',
      workflowId: 'WF-028',
      input: { name: 'Grace Hopper', email: 'grace.h@example.com', description: 'Catering, 40 guests' },
    });
    await succeeded('acme', 'WF-028');
    const invoice = atlas.fakes.stripe.requests.find(
      (r) => r.path === '/v1/invoices' && r.method === 'POST',
    )!;
    const fields = new URLSearchParams(invoice.text());
    expect(fields.get('customer')).toMatch(/^cus_/);
    expect(fields.get('collection_method')).toBe('send_invoice');
    expect(fields.get('days_until_due')).toBe('14');
  });

  it('WF-015: a refused Stripe key is reported to operations; a working one sends nothing', async () => {
    const { runtime } = atlas.engine.services.runtime;
    await runtime.trigger({ tenantId: 'globex', workflowId: 'WF-015' });
    await succeeded('globex', 'WF-015');
    expect(mailsTo('ops@globex.example').map((m) => m['subject'])).toEqual([
      'Atlas cannot use your Stripe key',
    ]);
    await runtime.trigger({ tenantId: 'acme', workflowId: 'WF-015' });
    const run = await succeeded('acme', 'WF-015');
    expect(run.steps.find((s) => s.id === 'warn')!.status).toBe('skipped');
  });

  it('WF-019: a test alert reaches Telegram, Teams and mail independently', async () => {
    await atlas.engine.services.runtime.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-019' });
    await succeeded('acme', 'WF-019');
    expect(JSON.stringify(atlas.fakes.graph.workflowPosts)).toContain('Atlas test alert for acme');
    expect(mailsTo('ops@acme.example').map((m) => m['subject'])).toContain('Atlas test alert');
  });
});
