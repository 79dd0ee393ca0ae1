/**
 * stripe, google, openai and social actions, each run as a workflow step by the whole engine
 * against its local fake, configured through ATLAS_CONNECTOR_* variables, with OAuth tokens
 * from a TokenSource and API keys from the environment or tenant secrets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripe as stripeConnector } from '../../connectors/stripe/index.ts';
import { GOOGLE_TOKEN, type GoogleFake, googleError, startGoogle } from '../fakes/google.ts';
import { DEEPSEEK_KEY, OPENAI_KEY, openaiError, startOpenAI } from '../fakes/openai.ts';
import { type FakeServer, json, startFake } from '../fakes/server.ts';
import { startSocial, TOKENS } from '../fakes/social.ts';
import { STRIPE_KEY, startStripe, stripeRateLimited } from '../fakes/stripe.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { runAction } from '../hub/context.ts';
import {
  type ActionCase,
  expectAuthFailure,
  expectRetriedAfter,
  manifestsOf,
  outputOf,
  tokenSource,
} from './in-workflow.ts';

const STRIPE: Array<[string, unknown, string]> = [
  ['customers.create', { email: 'ada@example.com', metadata: { plan: 'pro' } }, 'POST /v1/customers'],
  ['customers.retrieve', { id: 'cus_123' }, 'GET /v1/customers/cus_123'],
  ['paymentIntents.create', { amount: 1999, currency: 'eur' }, 'POST /v1/payment_intents'],
  ['paymentIntents.retrieve', { id: 'pi_123' }, 'GET /v1/payment_intents/pi_123'],
  ['refunds.create', { payment_intent: 'pi_123', amount: 500 }, 'POST /v1/refunds'],
  [
    'checkout.sessions.create',
    {
      mode: 'payment',
      success_url: 'https://example.com/ok',
      line_items: [{ name: 'Seat', amount: 900, currency: 'eur', quantity: 2 }],
    },
    'POST /v1/checkout/sessions',
  ],
  ['invoices.list', { customer: 'cus_123', limit: 3 }, 'GET /v1/invoices'],
  [
    'invoices.create',
    { customer: 'cus_123', collection_method: 'send_invoice', days_until_due: 30 },
    'POST /v1/invoices',
  ],
];

const GOOGLE: Array<[string, unknown]> = [
  ['calendar.listEvents', { timeMin: '2025-01-01T00:00:00Z', maxResults: 10 }],
  [
    'calendar.insertEvent',
    {
      summary: 'Review',
      start: { dateTime: '2025-01-03T10:00:00Z' },
      end: { dateTime: '2025-01-03T11:00:00Z' },
    },
  ],
  ['drive.listFiles', { q: "name contains 'invoice'" }],
  [
    'drive.uploadFile',
    { name: 'notes.txt', mimeType: 'text/plain', content_base64: Buffer.from('hello').toString('base64') },
  ],
];

const SOCIAL: Array<[string, unknown]> = [
  ['x', { network: 'x', text: 'Shipped!' }],
  ['linkedin', { network: 'linkedin', text: 'Shipped!', author: 'urn:li:organization:5515715' }],
  ['facebook', { network: 'facebook', text: 'Shipped!', pageId: '1234567890' }],
  [
    'instagram',
    {
      network: 'instagram',
      text: 'Shipped!',
      igUserId: '17841400000000000',
      mediaUrl: 'https://cdn.example.com/a.jpg',
    },
  ],
  [
    'tiktok',
    {
      network: 'tiktok',
      text: 'Shipped!',
      mediaUrl: 'https://cdn.example.com/a.mp4',
      privacyLevel: 'SELF_ONLY',
    },
  ],
];

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What is the weather in Paris?' }] };
const OPENAI: ActionCase[] = [
  { id: 'WF-830', uses: 'openai.chat', input: chat },
  {
    id: 'WF-831',
    uses: 'openai.embeddings',
    input: { model: 'text-embedding-3-small', input: ['a', 'bbb'] },
  },
  {
    id: 'WF-832',
    uses: 'openai.chat',
    input: { provider: 'deepseek', model: 'deepseek-chat', messages: [{ role: 'user', content: 'hi' }] },
  },
];

const CASES: ActionCase[] = [
  ...STRIPE.map(([action, input], i) => ({ id: `WF-81${i}`, uses: `stripe.${action}`, input })),
  ...GOOGLE.map(([action, input], i) => ({ id: `WF-82${i}`, uses: `google.${action}`, input })),
  ...OPENAI,
  ...SOCIAL.map(([, input], i) => ({ id: `WF-84${i}`, uses: 'social.publish', input })),
];

describe('API connectors inside workflows', () => {
  const database = useTestDatabase();
  let engine: TestEngine;
  let stripe: FakeServer;
  let google: GoogleFake;
  let openai: FakeServer;
  let social: FakeServer;
  beforeAll(async () => {
    [stripe, google, openai, social] = await Promise.all([
      startStripe(),
      startGoogle(),
      startOpenAI(),
      startSocial(),
    ]);
    engine = await startTestEngine(database, {
      manifests: manifestsOf(CASES),
      tenants: ['acme', 'globex'],
      tokens: tokenSource({
        acme: { google: GOOGLE_TOKEN, ...TOKENS },
        globex: { google: 'ya29.expired', x: 'x-revoked-token' },
      }),
      env: {
        ATLAS_CONNECTOR_STRIPE_BASE_URL: stripe.url,
        ATLAS_PLATFORM_CREDENTIALS: 'openai',
        ATLAS_CONNECTOR_GOOGLE_BASE_URL: google.url,
        ATLAS_CONNECTOR_OPENAI_BASE_URL: `${openai.url}/v1`,
        ATLAS_CONNECTOR_OPENAI_DEEPSEEK_BASE_URL: `${openai.url}/deepseek`,
        OPENAI_API_KEY: OPENAI_KEY,
        DEEPSEEK_API_KEY: DEEPSEEK_KEY,
        ATLAS_CONNECTOR_SOCIAL_X_BASE_URL: `${social.url}/x`,
        ATLAS_CONNECTOR_SOCIAL_LINKEDIN_BASE_URL: `${social.url}/linkedin`,
        ATLAS_CONNECTOR_SOCIAL_FACEBOOK_BASE_URL: `${social.url}/graph`,
        ATLAS_CONNECTOR_SOCIAL_INSTAGRAM_BASE_URL: `${social.url}/graph`,
        ATLAS_CONNECTOR_SOCIAL_TIKTOK_BASE_URL: `${social.url}/tiktok`,
      },
    });
    // Stripe: each tenant's own account. OpenAI: the platform's key, within acme's daily budget.
    await engine.services.secrets.put('acme', 'STRIPE_SECRET_KEY', STRIPE_KEY);
    await database
      .db('tenants')
      .where({ id: 'acme' })
      .update({ settings: { llm: { tokensPerDay: 1_000_000 } } });
    // Tenant secrets win over the platform's keys: globex's are ones the providers refuse.
    await engine.services.secrets.put('globex', 'STRIPE_SECRET_KEY', 'sk_test_revokedKeyForGlobex0000');
    await engine.services.secrets.put('globex', 'OPENAI_API_KEY', 'sk-revokedOpenAIKeyForGlobex000');
    await engine.startWorker(8);
  });
  afterAll(async () => {
    await engine?.stop();
    await Promise.all([stripe, google, openai, social].map((f) => f?.close()));
  });

  it('runs every Stripe action through the SDK, with the step idempotency key on writes', async () => {
    const runs = await Promise.all(STRIPE.map((_, i) => engine.runToEnd(`WF-81${i}`)));
    for (const [i, [action, , route]] of STRIPE.entries()) {
      expect(outputOf(runs[i]!), action).toMatchObject({ object: expect.any(String) });
      const [method, path] = route.split(' ');
      const request = stripe.requests.find((r) => r.method === method && r.path === path);
      expect(request, route).toBeDefined();
      if (method === 'POST') expect(request!.header('idempotency-key')).toBe(`${runs[i]!.id}:call`);
    }
  });

  it('runs every Google action with the tenant OAuth token', async () => {
    const runs = await Promise.all(GOOGLE.map((_, i) => engine.runToEnd(`WF-82${i}`)));
    for (const run of runs) outputOf(run);
    expect(google.uploads).toHaveLength(1);
    expect(google.requests.every((r) => r.header('authorization') === `Bearer ${GOOGLE_TOKEN}`)).toBe(true);
  });

  it('runs chat, embeddings and an OpenAI-compatible provider', async () => {
    const [tools, vectors, deepseek] = await Promise.all(OPENAI.map((c) => engine.runToEnd(c.id)));
    expect(outputOf(tools!)).toMatchObject({ finish_reason: 'stop' });
    expect(outputOf(vectors!)).toMatchObject({ embeddings: [expect.any(Array), expect.any(Array)] });
    expect(outputOf(deepseek!)).toMatchObject({ content: 'echo: hi' });
    const paths = openai.requests.map((r) => r.path).sort();
    expect(paths).toEqual(['/deepseek/chat/completions', '/v1/chat/completions', '/v1/embeddings']);
  });

  it('publishes to every social network', async () => {
    const runs = await Promise.all(SOCIAL.map((_, i) => engine.runToEnd(`WF-84${i}`)));
    expect(runs.map((run) => (outputOf(run) as { network: string }).network)).toEqual(SOCIAL.map(([n]) => n));
  });

  it('retries 429s after their Retry-After, with the same idempotency key', async () => {
    stripe.enqueue(stripeRateLimited('1'));
    const before = stripe.requests.length;
    expectRetriedAfter(await engine.runToEnd('WF-810'), 1000);
    const [first, second] = stripe.requests.slice(before);
    expect(second!.header('idempotency-key')).toBe(first!.header('idempotency-key'));

    google.enqueue(googleError(429, 'rateLimitExceeded', 'Rate Limit Exceeded', { 'retry-after': '1' }));
    expectRetriedAfter(await engine.runToEnd('WF-820'), 1000);
    openai.enqueue(openaiError(429, 'rate_limit_exceeded', 'Rate limit reached', { 'retry-after': '1' }));
    expectRetriedAfter(await engine.runToEnd('WF-831'), 1000);
  });

  it('fails 401s as auth errors, without retrying', async () => {
    for (const id of ['WF-811', 'WF-821', 'WF-830', 'WF-840']) {
      expectAuthFailure(await engine.runToEnd(id, {}, 'globex'));
    }
  });
});

describe('a Stripe base URL with a path prefix (a gateway)', () => {
  it('keeps the prefix on every request the SDK sends', async () => {
    const gateway = await startFake((req) =>
      req.path === '/stripe/v1/customers/cus_9'
        ? json(200, { id: 'cus_9', object: 'customer', email: null, name: null, metadata: {} })
        : json(404, { error: { type: 'invalid_request_error', message: `no route ${req.path}` } }),
    );
    try {
      const out = await runAction(
        stripeConnector,
        'customers.retrieve',
        { id: 'cus_9' },
        { baseUrl: `${gateway.url}/stripe/`, secrets: { STRIPE_SECRET_KEY: STRIPE_KEY } },
      );
      expect(out).toMatchObject({ id: 'cus_9' });
      expect(gateway.requests.map((r) => r.path)).toEqual(['/stripe/v1/customers/cus_9']);
    } finally {
      await gateway.close();
    }
  });
});
