/**
 * Telegram, Teams, Standard Webhooks and plain HMAC routes through the engine, each signed by
 * an independent oracle (the `standardwebhooks` package, node:crypto for Teams and HMAC), and
 * every kind of bad request: a clear 4xx problem+json, counted and recorded (never audited),
 * nothing else stored.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { poll } from '../helpers/poll.ts';
import {
  countsFor,
  freshEventId,
  post,
  readFixture,
  signedStripe,
  startWebhookEngine,
  stripe,
  type WebhookEngine,
} from './harness.ts';

const database = useTestDatabase();
let atlas: WebhookEngine;

const TELEGRAM_TOKEN = 'tg_secret-Token_0123456789';
const TEAMS_TOKEN = randomBytes(32).toString('base64'); // what Teams shows when the webhook is made
const STANDARD_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const HMAC_SECRET = 'hmac test secret';
const STRIPE_SECRET = 'whsec_globexGlobexGlobex0123456789';

beforeAll(async () => {
  atlas = await startWebhookEngine(database, {
    TELEGRAM_WEBHOOK_SECRET: TELEGRAM_TOKEN,
    TEAMS_WEBHOOK_SECRET: TEAMS_TOKEN,
    HMAC_TEST_SECRET: HMAC_SECRET,
    ATLAS_BODY_LIMIT: '64kb',
  });
  await atlas.tenant('globex', {
    workflows: ['WF-021', 'WF-902', 'WF-903', 'WF-904'],
    secrets: {
      STANDARD_TEST_SECRET: STANDARD_SECRET,
      STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
      TEAMS_OUTGOING_WEBHOOK_TOKEN: TEAMS_TOKEN,
    },
  });
  await atlas.tenant('hmac-tenant', { workflows: ['WF-905'] });
});
afterAll(async () => {
  await atlas?.close();
});

const json = { 'content-type': 'application/json' };
const runsOf = async (tenant: string, workflow: string) =>
  (await atlas.db('workflow_runs').where({ tenant_id: tenant, workflow_id: workflow })).length;

describe('Telegram', () => {
  const url = () => `${atlas.url}/v1/telegram/webhook?tenantId=globex`;
  const update = (id: number) => JSON.stringify({ update_id: id, message: { message_id: 7, text: 'hi' } });

  it('accepts the secret token, dedups on update_id, refuses a wrong one', async () => {
    // globex's secret_token: derived from the platform's (GET /v1/webhook-routes shows it).
    const derived = createHmac('sha256', TELEGRAM_TOKEN).update('globex').digest('base64url');
    const headers = { ...json, 'x-telegram-bot-api-secret-token': derived };
    const first = await post(url(), update(900_001), headers);
    expect(first.status).toBe(200);
    expect(await runsOf('globex', 'WF-903')).toBe(1);
    expect((await post(url(), update(900_001), headers)).headers.get('atlas-webhook-outcome')).toBe(
      'duplicate',
    );
    const run = await atlas.db('workflow_runs').where({ workflow_id: 'WF-903' }).first();
    expect(run.trigger).toMatchObject({ eventId: '900001', eventType: 'message' });

    const wrong = await post(url(), update(900_002), { ...json, 'x-telegram-bot-api-secret-token': 'nope' });
    expect(wrong.status).toBe(401);
    expect(await runsOf('globex', 'WF-903')).toBe(1);
  });
});

describe('Teams outgoing webhook', () => {
  it('verifies HMAC keyed by the base64-decoded token and replies with a message activity', async () => {
    const body = JSON.stringify({ type: 'message', id: '1719408000000', text: '<at>Atlas</at> status' });
    const mac = createHmac('sha256', Buffer.from(TEAMS_TOKEN, 'base64')).update(body).digest('base64');
    const res = await post(`${atlas.url}/v1/teams/webhook?tenantId=globex`, body, {
      'content-type': 'application/json; charset=utf-8',
      authorization: `HMAC ${mac}`,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ type: 'message', text: 'Received.' });
    expect(await runsOf('globex', 'WF-904')).toBe(1);

    // Keyed with the token text instead of its decoded bytes: the classic mistake, refused.
    const naive = createHmac('sha256', TEAMS_TOKEN).update(body).digest('base64');
    const refused = await post(`${atlas.url}/v1/teams/webhook?tenantId=globex`, body, {
      ...json,
      authorization: `HMAC ${naive}`,
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
  });
});

describe('Standard Webhooks', () => {
  const url = () => `${atlas.url}/v1/webhooks/standard-test`;
  const signed = (id: string, payload: string, at = new Date()) => {
    const signature = new Webhook(STANDARD_SECRET).sign(id, at, payload);
    const timestamp = String(Math.floor(at.getTime() / 1000));
    return {
      ...json,
      'x-atlas-tenant': 'globex',
      'webhook-id': id,
      'webhook-timestamp': timestamp,
      'webhook-signature': signature,
    };
  };

  it('accepts what the standardwebhooks package signs, routes by type and `if`, dedups on webhook-id', async () => {
    const paid = JSON.stringify({ type: 'order.updated', data: { status: 'paid' } });
    const id = freshEventId('msg_');
    expect((await post(url(), paid, signed(id, paid))).status).toBe(200);
    expect(await runsOf('globex', 'WF-902')).toBe(1);
    expect((await post(url(), paid, signed(id, paid))).headers.get('atlas-webhook-outcome')).toBe(
      'duplicate',
    );

    const pending = JSON.stringify({ type: 'order.updated', data: { status: 'pending' } });
    expect((await post(url(), pending, signed(freshEventId('msg_'), pending))).status).toBe(200);
    expect(await runsOf('globex', 'WF-902')).toBe(1);
  });

  it('refuses a timestamp outside the route tolerance (2m) and a tampered body', async () => {
    const body = JSON.stringify({ type: 'order.updated', data: { status: 'paid' } });
    const old = await post(
      url(),
      body,
      signed(freshEventId('msg_'), body, new Date(Date.now() - 3 * 60_000)),
    );
    expect(old.status).toBe(401);
    expect(((await old.json()) as { reason: string }).reason).toBe('timestamp_stale');
    const headers = signed(freshEventId('msg_'), body);
    const tampered = await post(url(), body.replace('paid', 'PAID'), headers);
    expect(tampered.status).toBe(401);
  });
});

describe('hmac-sha256 with a fallback tenant', () => {
  it('verifies sha256=<hex> on PUT and answers with the route response', async () => {
    const body = JSON.stringify({ action: 'opened', number: 42 });
    const mac = createHmac('sha256', HMAC_SECRET).update(body).digest('hex');
    const headers = {
      ...json,
      'x-hub-signature-256': `sha256=${mac}`,
      'x-github-delivery': freshEventId('d-'),
      'x-github-event': 'pull_request',
    };
    const res = await post(`${atlas.url}/v1/webhooks/hmac-test`, body, headers, 'PUT');
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ ok: true });
    expect(await runsOf('hmac-tenant', 'WF-905')).toBe(1);
    const wrongMethod = await post(`${atlas.url}/v1/webhooks/hmac-test`, body, headers, 'POST');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('PUT');
  });
});

describe('a tenant named in the body', () => {
  const url = () => `${atlas.url}/v1/webhooks/body-tenant-test`;
  const signed = (body: string, secret = 'body secret') => ({
    ...json,
    'x-signature': createHmac('sha256', secret).update(body).digest('base64'),
  });

  it('finds the tenant in the body, then verifies with its secret before acting on anything', async () => {
    await atlas.tenant('initech', { secrets: { BODY_TENANT_SECRET: 'body secret' } });
    const body = JSON.stringify({ account: 'initech', delivery: { id: 17, kind: 'ping' } });
    const ok = await post(url(), body, signed(body));
    expect(ok.status).toBe(200);
    const row = await atlas.db('webhook_events').where({ tenant_id: 'initech' }).first();
    expect(row).toMatchObject({ route_id: 'body-tenant-test', event_id: '17', event_type: 'ping' });

    const forged = await post(url(), body.replace('17', '18'), signed(body));
    expect(forged.status).toBe(401);
    const elsewhere = JSON.stringify({ account: 'nobody', delivery: { id: 1, kind: 'ping' } });
    expect((await post(url(), elsewhere, signed(elsewhere))).status).toBe(404);
    expect((await post(url(), '{"account":', signed('{"account":'))).status).toBe(400);
  });
});

describe('bad requests', () => {
  let event: Record<string, unknown>;
  beforeAll(async () => {
    event = await readFixture('payment_intent.succeeded.json');
  });
  const stripeUrl = (tenant = 'globex') => `${atlas.url}/v1/webhooks/stripe?tenantId=${tenant}`;
  const valid = () => signedStripe({ ...event, id: freshEventId() }, STRIPE_SECRET);

  const cases: Array<[string, () => Promise<Response>, number, string]> = [
    [
      'an unknown tenant',
      async () => post(stripeUrl('nobody'), valid().body, valid().headers),
      404,
      'tenant_unknown',
    ],
    [
      'no tenant',
      async () => post(`${atlas.url}/v1/webhooks/stripe`, valid().body, valid().headers),
      400,
      'tenant_missing',
    ],
    ['no signature', async () => post(stripeUrl(), valid().body, json), 400, 'header_missing'],
    [
      'a malformed signature',
      async () => post(stripeUrl(), valid().body, { ...json, 'stripe-signature': 'v1=zz' }),
      400,
      'header_malformed',
    ],
    [
      'a wrong content type',
      async () => post(stripeUrl(), valid().body, { ...valid().headers, 'content-type': 'text/plain' }),
      415,
      'content_type',
    ],
    [
      'a body over the limit',
      async () => post(stripeUrl(), 'x'.repeat(70_000), valid().headers),
      413,
      'too_large',
    ],
    [
      'a stale timestamp',
      async () => {
        const d = signedStripe({ ...event, id: freshEventId() }, STRIPE_SECRET, {
          timestamp: Math.floor(Date.now() / 1000) - 301,
        });
        return post(stripeUrl(), d.body, d.headers);
      },
      401,
      'timestamp_stale',
    ],
    [
      'invalid JSON under a valid signature',
      async () => {
        const body = '{"id": "evt_1", ';
        const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret: STRIPE_SECRET });
        return post(stripeUrl(), body, { ...json, 'stripe-signature': header });
      },
      400,
      'invalid_json',
    ],
    [
      'a tenant with no secret and no platform fallback',
      async () => {
        const body = JSON.stringify({ type: 'order.updated' });
        const signature = new Webhook(STANDARD_SECRET).sign('msg_nosecret', new Date(), body);
        const ts = String(Math.floor(Date.now() / 1000));
        return post(`${atlas.url}/v1/webhooks/standard-test`, body, {
          ...json,
          'x-atlas-tenant': 'hmac-tenant',
          'webhook-id': 'msg_nosecret',
          'webhook-timestamp': ts,
          'webhook-signature': signature,
        });
      },
      401,
      'secret_missing',
    ],
    [
      'an event without an id',
      async () => {
        const { id: _id, ...rest } = event;
        const d = signedStripe(rest, STRIPE_SECRET);
        return post(stripeUrl(), d.body, d.headers);
      },
      400,
      'event_id_missing',
    ],
  ];

  for (const [what, send, status, reason] of cases) {
    it(`${what}: ${status} problem+json (${reason}), recorded, nothing stored`, async () => {
      const before = await countsFor(atlas.db, 'globex');
      const audits = await atlas.db('audit_log').count('* as n');
      const res = await send();
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await res.json()) as { status: number; reason: string; detail: string };
      expect(problem).toMatchObject({ status, reason });
      expect(problem.detail.length).toBeGreaterThan(10);
      expect(await countsFor(atlas.db, 'globex')).toEqual(before);
      // Refusals never reach the append-only audit log; they are aggregated per minute instead.
      expect(await atlas.db('audit_log').count('* as n')).toEqual(audits);
      await poll(async () =>
        (await atlas.db('webhook_rejections').where({ reason }).first()) ? true : undefined,
      );
    });
  }

  it('counts refusals in the metrics, and an unknown webhook path is a plain 404', async () => {
    const metrics = await (await fetch(`${atlas.url}/metrics`)).text();
    expect(metrics).toMatch(
      /atlas_webhook_rejections_total\{route="stripe",reason="tenant_unknown",status="404"\} [1-9]/,
    );
    expect(metrics).toMatch(/atlas_webhook_deliveries_total\{route="telegram",outcome="accepted"\} 1/);
    const unknown = await post(`${atlas.url}/v1/webhooks/nowhere`, '{}', json);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');
  });
});
