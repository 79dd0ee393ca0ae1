/**
 * A fake Stripe API: form-encoded `POST /v1/...`, `Authorization: Bearer sk_test_...`,
 * `Idempotency-Key` replays (same answer, `Idempotent-Replayed: true`), and Stripe's error
 * envelope `{ error: { type, code, decline_code, message } }`.
 */
import { type FakeReply, type FakeServer, json, type RecordedRequest, startFake } from './server.ts';

export const STRIPE_KEY = 'sk_test_51FakeKeyForAtlasTests0000';

export function stripeError(
  status: number,
  error: Record<string, unknown>,
  headers: Record<string, string> = {},
): FakeReply {
  return json(status, { error }, { 'request-id': 'req_fake', ...headers });
}

export const stripeRateLimited = (retryAfter?: string) =>
  stripeError(
    429,
    { type: 'invalid_request_error', code: 'rate_limit', message: 'Request rate limit exceeded.' },
    retryAfter ? { 'retry-after': retryAfter } : {},
  );

let seq = 0;
const id = (prefix: string) => `${prefix}_${(++seq).toString().padStart(14, '0')}`;

function created(req: RecordedRequest, path: string): Record<string, unknown> | undefined {
  const form = Object.fromEntries(new URLSearchParams(req.text()));
  const base = { created: 1735689600, livemode: false, metadata: {} };
  if (path === '/v1/customers')
    return {
      id: id('cus'),
      object: 'customer',
      email: form['email'] ?? null,
      name: form['name'] ?? null,
      ...base,
    };
  if (path === '/v1/payment_intents') {
    return {
      id: id('pi'),
      object: 'payment_intent',
      amount: Number(form['amount']),
      currency: form['currency'],
      status: 'requires_payment_method',
      client_secret: 'pi_secret_x',
      ...base,
    };
  }
  if (path === '/v1/refunds')
    return {
      id: id('re'),
      object: 'refund',
      amount: Number(form['amount'] ?? 1000),
      payment_intent: form['payment_intent'] ?? null,
      status: 'succeeded',
      ...base,
    };
  if (path === '/v1/checkout/sessions') {
    const sid = id('cs_test');
    return {
      id: sid,
      object: 'checkout.session',
      mode: form['mode'],
      url: `https://checkout.stripe.com/c/pay/${sid}`,
      ...base,
    };
  }
  if (path === '/v1/invoices')
    return { id: id('in'), object: 'invoice', customer: form['customer'], status: 'draft', ...base };
  return undefined;
}

/**
 * The invoices `GET /v1/invoices` lists, newest first, filtered by its `status` and `customer`
 * parameters (an invoice without a customer matches any): a test replaces or edits them.
 */
export interface StripeFake extends FakeServer {
  invoices: Array<Record<string, unknown>>;
}

function retrieved(
  req: RecordedRequest,
  invoices: StripeFake['invoices'],
): Record<string, unknown> | undefined {
  const { path } = req;
  const m = /^\/v1\/(customers|payment_intents)\/([^/]+)$/.exec(path);
  if (m) {
    if (m[2]!.endsWith('missing')) return undefined;
    return m[1] === 'customers'
      ? { id: m[2], object: 'customer', email: 'ada@example.com' }
      : { id: m[2], object: 'payment_intent', amount: 1000, currency: 'eur', status: 'succeeded' };
  }
  if (path === '/v1/invoices') {
    const status = req.query.get('status');
    const customer = req.query.get('customer');
    const data = invoices.filter(
      (i) =>
        (status === null || i['status'] === status) &&
        (customer === null || i['customer'] === undefined || i['customer'] === customer),
    );
    return { object: 'list', url: '/v1/invoices', has_more: false, data };
  }
  return undefined;
}

export async function startStripe(): Promise<StripeFake> {
  const replays = new Map<string, Record<string, unknown>>();
  const invoices: StripeFake['invoices'] = [{ id: 'in_1', object: 'invoice', status: 'paid' }];
  const server = await startFake((req) => {
    if (req.header('authorization') !== `Bearer ${STRIPE_KEY}`) {
      return stripeError(401, {
        type: 'invalid_request_error',
        message: 'Invalid API Key provided: sk_test_****0000',
      });
    }
    if (req.method === 'GET') {
      const found = retrieved(req, invoices);
      if (found) return json(200, found);
      return stripeError(404, {
        type: 'invalid_request_error',
        code: 'resource_missing',
        message: `No such object: '${req.path.split('/').pop()}'`,
        param: 'id',
      });
    }
    const key = req.header('idempotency-key');
    const replay = key ? replays.get(key) : undefined;
    if (replay) return json(200, replay, { 'idempotent-replayed': 'true' });
    const body = created(req, req.path);
    if (!body)
      return stripeError(404, {
        type: 'invalid_request_error',
        message: `Unrecognized request URL (POST: ${req.path}).`,
      });
    if (key) replays.set(key, body);
    return json(200, body);
  });
  return Object.assign(server, { invoices });
}
