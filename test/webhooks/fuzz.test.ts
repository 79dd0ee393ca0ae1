/**
 * Fuzzed webhook requests over real HTTP never get a 5xx: random headers, content types,
 * tenants and bodies on every route, and random JSON under a VALID Stripe signature (the
 * parsing and locating that only verified requests reach).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { post, startWebhookEngine, stripe, type WebhookEngine } from './harness.ts';

const database = useTestDatabase();
let atlas: WebhookEngine;
const SECRET = 'whsec_fuzzFuzzFuzz0123456789';

beforeAll(async () => {
  atlas = await startWebhookEngine(database, {
    ATLAS_BODY_LIMIT: '16kb',
    // Every fuzzed refusal comes from one address; these tests are about answers, not throttling.
    ATLAS_WEBHOOK_REJECT_LIMIT: '1000000',
  });
  await atlas.tenant('fuzz', { workflows: ['WF-021', 'WF-901'], secrets: { STRIPE_WEBHOOK_SECRET: SECRET } });
});
afterAll(async () => {
  await atlas?.close();
});

const printable = fc.stringMatching(/^[\x20-\x7e]{0,120}$/);
const headerNames = fc.constantFrom(
  'stripe-signature',
  'authorization',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'x-telegram-bot-api-secret-token',
  'x-hub-signature-256',
  'x-github-delivery',
  'x-atlas-tenant',
  'content-type',
);
const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/cloudevents+json',
  'text/plain',
  'multipart/form-data; boundary=x',
  '',
);
const bodies = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc.string({ maxLength: 400 }),
  fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b).toString('latin1')),
);
const paths = fc.constantFrom(
  '/v1/webhooks/stripe',
  '/v1/telegram/webhook',
  '/v1/teams/webhook',
  '/v1/webhooks/standard-test',
  '/v1/webhooks/hmac-test',
  '/v1/webhooks/body-tenant-test',
);
const tenants = fc.oneof(fc.constantFrom('fuzz', 'nobody', '', 'FUZZ', '../x'), printable);

describe('fuzzed webhook requests', () => {
  it('never answer 5xx, and every refusal is problem+json', async () => {
    await fc.assert(
      fc.asyncProperty(
        paths,
        fc.constantFrom('POST', 'PUT', 'PATCH'),
        tenants,
        contentTypes,
        fc.dictionary(headerNames, printable, { maxKeys: 5 }),
        bodies,
        async (path, method, tenant, type, headers, body) => {
          const url = `${atlas.url}${path}?tenantId=${encodeURIComponent(tenant)}`;
          const res = await post(url, body, { 'content-type': type, ...headers }, method);
          const text = await res.text();
          expect(res.status, text).toBeLessThan(500);
          if (res.status >= 400)
            expect(res.headers.get('content-type')).toContain('application/problem+json');
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000);

  it('random JSON under a valid Stripe signature is accepted or refused with a 4xx, never a 5xx', async () => {
    const event = fc.record(
      {
        id: fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.integer(),
          fc.constant(null),
          fc.json({ maxDepth: 2 }),
        ),
        type: fc.oneof(
          fc.constantFrom('payment_intent.succeeded', 'invoice.paid'),
          fc.string(),
          fc.integer(),
        ),
        data: fc.oneof(
          fc.record({
            object: fc.record({ amount_received: fc.oneof(fc.integer(), fc.string(), fc.constant(null)) }),
          }),
          fc.json({ maxDepth: 3 }).map((j) => JSON.parse(j) as unknown),
        ),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          event.map((e) => JSON.stringify(e)),
          fc.json({ maxDepth: 3 }),
        ),
        async (body) => {
          const signature = stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET });
          const res = await post(`${atlas.url}/v1/webhooks/stripe?tenantId=fuzz`, body, {
            'content-type': 'application/json',
            'stripe-signature': signature,
          });
          const text = await res.text();
          expect(res.status, text).toBeLessThan(500);
          expect([200, 400]).toContain(res.status);
        },
      ),
      { numRuns: 200 },
    );
  }, 120_000);

  it('refuses what PostgreSQL cannot store (\\u0000, lone surrogates) with a 400, and drops a NUL query value', async () => {
    const send = (body: string, query = '') =>
      post(`${atlas.url}/v1/webhooks/stripe?tenantId=fuzz${query}`, body, {
        'content-type': 'application/json',
        'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET }),
      });
    const event = (extra: string) =>
      `{"id":"evt_nul_${extra.length}","type":"charge.updated","note":"${extra}"}`;
    expect((await send(event('a\\u0000b'))).status).toBe(400);
    expect((await send(event('\\ud800'))).status).toBe(400);
    expect((await send('{"id":"evt_\\u0000","type":"x"}')).status).toBe(400);
    // An escaped backslash before "u0000" is plain text, and a surrogate pair is one character.
    expect((await send(event('\\\\u0000'))).status).toBe(200);
    expect((await send(event('\\ud83d\\ude00!'))).status).toBe(200);
    const withNul = await send('{"id":"evt_nul_query","type":"invoice.paid"}', '&note=%00');
    expect(withNul.status).toBe(200);
    const run = await atlas
      .db('workflow_runs')
      .whereRaw("trigger->>'eventId' = ?", ['evt_nul_query'])
      .first();
    expect(run.trigger.query).toEqual({ tenantId: 'fuzz' });
  });
});
