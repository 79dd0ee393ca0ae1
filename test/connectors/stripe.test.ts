import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripe } from '../../connectors/stripe/index.ts';
import type { FakeServer } from '../fakes/server.ts';
import { STRIPE_KEY, startStripe, stripeError, stripeRateLimited } from '../fakes/stripe.ts';
import { makeTestContext, runAction, type TestContextOptions } from '../hub/context.ts';
import { expectConnectorError, expectHostileHandled } from './hostile.ts';

let fake: FakeServer;
let opts: TestContextOptions;
beforeAll(async () => {
  fake = await startStripe();
  opts = { baseUrl: fake.url, secrets: { STRIPE_SECRET_KEY: STRIPE_KEY } };
});
afterAll(() => fake.close());

const run = (action: string, input: unknown, extra: TestContextOptions = {}) =>
  runAction<Record<string, unknown>>(stripe, action, input, { ...opts, ...extra });

const cases: Array<[string, unknown, string, string]> = [
  ['customers.create', { email: 'ada@example.com', metadata: { plan: 'pro' } }, 'POST', '/v1/customers'],
  ['customers.retrieve', { id: 'cus_123' }, 'GET', '/v1/customers/cus_123'],
  ['paymentIntents.create', { amount: 1999, currency: 'eur' }, 'POST', '/v1/payment_intents'],
  ['paymentIntents.retrieve', { id: 'pi_123' }, 'GET', '/v1/payment_intents/pi_123'],
  ['refunds.create', { payment_intent: 'pi_123', amount: 500 }, 'POST', '/v1/refunds'],
  [
    'checkout.sessions.create',
    {
      mode: 'payment',
      success_url: 'https://example.com/ok',
      line_items: [{ name: 'Seat', amount: 900, currency: 'eur', quantity: 2 }],
    },
    'POST',
    '/v1/checkout/sessions',
  ],
  ['invoices.list', { customer: 'cus_123', limit: 3 }, 'GET', '/v1/invoices'],
  [
    'invoices.create',
    { customer: 'cus_123', collection_method: 'send_invoice', days_until_due: 30 },
    'POST',
    '/v1/invoices',
  ],
];

describe.each(cases)('stripe.%s', (action, input, method, path) => {
  it('calls the API through the SDK pointed at the fake', async () => {
    const out = await run(action, input, { idempotencyKey: `run_1:${action}` });
    expect(out['object']).toBeDefined();
    const req = fake.requests.at(-1)!;
    expect([req.method, req.path]).toEqual([method, path]);
    if (method === 'POST') expect(req.header('idempotency-key')).toBe(`run_1:${action}`);
  });

  it('maps a 429 to retryable with Retry-After, and a 401 to auth', async () => {
    fake.enqueue(stripeRateLimited('4'));
    const err = await expectConnectorError(run(action, input));
    expect(err).toMatchObject({ kind: 'retryable', code: 'rate_limited', retryAfterMs: 4000, status: 429 });
    await expect(
      run(action, input, { secrets: { STRIPE_SECRET_KEY: 'sk_test_wrong' } }),
    ).rejects.toMatchObject({
      kind: 'auth',
      status: 401,
    });
  });

  it('survives hostile answers', async () => {
    await expectHostileHandled(fake, () => run(action, input), [
      {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"object":"something_else","id":"x"}',
      },
    ]);
  });
});

describe('stripe errors and idempotency', () => {
  it('replays a retried create with the same key instead of creating twice', async () => {
    const first = await run('customers.create', { email: 'x@example.com' }, { idempotencyKey: 'run_2:cust' });
    const again = await run(
      'customers.create',
      { email: 'x@example.com' },
      { idempotencyKey: 'run_2:cust', attempt: 2 },
    );
    expect(again['id']).toBe(first['id']);
  });

  it('maps card, invalid-request, not-found and server errors', async () => {
    fake.enqueue(
      stripeError(402, {
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'insufficient_funds',
        message: 'Your card has insufficient funds.',
      }),
    );
    await expect(run('paymentIntents.create', { amount: 100, currency: 'usd' })).rejects.toMatchObject({
      kind: 'fatal',
      code: 'card_declined',
      message: expect.stringContaining('insufficient_funds'),
    });
    await expect(run('customers.retrieve', { id: 'cus_missing' })).rejects.toMatchObject({
      kind: 'fatal',
      code: 'not_found',
    });
    fake.enqueue(
      stripeError(400, {
        type: 'invalid_request_error',
        code: 'parameter_missing',
        message: 'Missing required param: amount.',
      }),
    );
    await expect(run('paymentIntents.create', { amount: 1, currency: 'usd' })).rejects.toMatchObject({
      code: 'parameter_missing',
    });
    fake.enqueue(stripeError(500, { type: 'api_error', message: 'Something went wrong on Stripe’s end.' }));
    await expect(run('customers.retrieve', { id: 'cus_1' })).rejects.toMatchObject({ kind: 'retryable' });
    fake.enqueue(
      stripeError(
        409,
        { type: 'invalid_request_error', code: 'lock_timeout', message: 'locked' },
        { 'stripe-should-retry': 'true' },
      ),
    );
    await expect(run('customers.retrieve', { id: 'cus_1' })).rejects.toMatchObject({
      kind: 'retryable',
      code: 'lock_timeout',
    });
  });

  it('times out as retryable', async () => {
    fake.enqueue({ status: 200, body: '{}', delayMs: 1500 });
    await expect(run('customers.retrieve', { id: 'cus_1' }, { timeoutMs: 200 })).rejects.toMatchObject({
      kind: 'retryable',
      code: 'timeout',
    });
  });

  it('keeps the secret key out of audit entries and logs', async () => {
    const { ctx, audit, logs } = makeTestContext(stripe, 'customers.create', opts);
    await stripe.actions[0]!.run(ctx, { email: 'a@example.com' });
    expect(audit.entries).toHaveLength(1);
    expect(JSON.stringify(audit.entries) + JSON.stringify(logs)).not.toContain(STRIPE_KEY);
  });
});
