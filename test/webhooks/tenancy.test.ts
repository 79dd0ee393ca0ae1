/**
 * One platform secret must not open every tenant's door. Where Atlas chooses the secret
 * (Telegram's secret_token, Standard Webhooks keys) each tenant's is an HMAC of its id under
 * the platform secret; where the provider creates it (Stripe, Teams) the platform secret
 * verifies only routes that fix the tenant or read it from the signed body.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import {
  apiCall,
  countsFor,
  freshEventId,
  PLATFORM_STRIPE_SECRET,
  post,
  readFixture,
  signedStripe,
  startWebhookEngine,
  type WebhookEngine,
} from './harness.ts';

const database = useTestDatabase();
let atlas: WebhookEngine;
let event: Record<string, unknown>;

const TELEGRAM_PLATFORM = 'tg-platform-Token_0123456789abcdef';
const TEAMS_PLATFORM = randomBytes(32).toString('base64');
const STANDARD_PLATFORM = `whsec_${randomBytes(24).toString('base64')}`;
const DEMO_STRIPE = 'whsec_demoDemoDemoDemo0123456789abcdef';
const OTHER_TEAMS = randomBytes(32).toString('base64');

/** The derivation, computed here independently of the engine. */
const derivedTelegram = (tenant: string) =>
  createHmac('sha256', TELEGRAM_PLATFORM).update(tenant).digest('base64url');
const derivedStandard = (tenant: string) =>
  `whsec_${createHmac('sha256', STANDARD_PLATFORM).update(tenant).digest('base64')}`;

beforeAll(async () => {
  atlas = await startWebhookEngine(database, {
    TELEGRAM_WEBHOOK_SECRET: TELEGRAM_PLATFORM,
    TEAMS_WEBHOOK_SECRET: TEAMS_PLATFORM,
    STANDARD_TEST_SECRET: STANDARD_PLATFORM,
    ATLAS_PUBLIC_URL: 'https://atlas.example.com',
  });
  event = await readFixture('payment_intent.succeeded.json');
  const all = ['WF-021', 'WF-902', 'WF-903', 'WF-904'];
  await atlas.tenant('demo', { workflows: all, secrets: { STRIPE_WEBHOOK_SECRET: DEMO_STRIPE } });
  await atlas.tenant('other', { workflows: all, secrets: { TEAMS_OUTGOING_WEBHOOK_TOKEN: OTHER_TEAMS } });
  await atlas.tenant('third', { workflows: all });
});
afterAll(async () => {
  await atlas?.close();
});

const json = { 'content-type': 'application/json' };
const reasonOf = async (res: Response) => ((await res.json()) as { reason: string }).reason;

describe('Stripe: the provider creates the secret', () => {
  const url = (tenant: string) => `${atlas.url}/v1/webhooks/stripe?tenantId=${tenant}`;

  it('refuses the platform secret on a route whose tenant the request names: no cross-tenant replay', async () => {
    const forged = signedStripe({ ...event, id: freshEventId() }, PLATFORM_STRIPE_SECRET);
    for (const tenant of ['other', 'third']) {
      const res = await post(url(tenant), forged.body, forged.headers);
      expect(res.status).toBe(401);
      expect(await reasonOf(res)).toBe('secret_missing');
    }
    expect((await countsFor(atlas.db, 'other')).runs).toBe(0);
    expect((await countsFor(atlas.db, 'third')).runs).toBe(0);
  });

  it("accepts a tenant's own secret for that tenant only: the same body and signature fail for another", async () => {
    const delivery = signedStripe({ ...event, id: freshEventId() }, DEMO_STRIPE);
    expect((await post(url('demo'), delivery.body, delivery.headers)).status).toBe(200);
    expect((await countsFor(atlas.db, 'demo')).runs).toBe(1);
    const replay = await post(url('third'), delivery.body, delivery.headers);
    expect(replay.status).toBe(401);
    expect((await countsFor(atlas.db, 'third')).runs).toBe(0);
  });

  it('accepts the platform secret where the signed body names the tenant (Stripe Connect style)', async () => {
    const connect = `${atlas.url}/v1/webhooks/stripe-connect-test`;
    const delivery = signedStripe({ ...event, id: freshEventId(), account: 'third' }, PLATFORM_STRIPE_SECRET);
    expect((await post(connect, delivery.body, delivery.headers)).status).toBe(200);
    expect((await countsFor(atlas.db, 'third')).events).toBe(1);
    // The tenant is part of what was signed: moving the event to another tenant breaks it.
    const moved = delivery.body.replace('"account": "third"', '"account": "other"');
    expect(moved).not.toBe(delivery.body);
    expect((await post(connect, moved, delivery.headers)).status).toBe(401);
    expect((await countsFor(atlas.db, 'other')).events).toBe(0);
  });
});

describe('Teams: the provider creates the secret', () => {
  const body = JSON.stringify({ type: 'message', id: '1719408000001', text: 'hi' });
  const mac = (token: string) =>
    `HMAC ${createHmac('sha256', Buffer.from(token, 'base64')).update(body).digest('base64')}`;

  it("refuses the platform token on a query-named tenant and accepts the tenant's own", async () => {
    const url = (tenant: string) => `${atlas.url}/v1/teams/webhook?tenantId=${tenant}`;
    const platform = await post(url('third'), body, { ...json, authorization: mac(TEAMS_PLATFORM) });
    expect(platform.status).toBe(401);
    expect(await reasonOf(platform)).toBe('secret_missing');
    const own = await post(url('other'), body, { ...json, authorization: mac(OTHER_TEAMS) });
    expect(own.status).toBe(200);
  });
});

describe('Telegram: Atlas chooses the secret_token', () => {
  const url = (tenant: string) => `${atlas.url}/v1/telegram/webhook?tenantId=${tenant}`;
  const update = (id: number) => JSON.stringify({ update_id: id, message: { message_id: 1, text: 'x' } });
  const token = (value: string) => ({ ...json, 'x-telegram-bot-api-secret-token': value });

  it("refuses the platform token itself and another tenant's derived token; accepts the tenant's", async () => {
    const before = await countsFor(atlas.db, 'other');
    const forged = await post(url('other'), update(1), token(TELEGRAM_PLATFORM));
    expect(forged.status).toBe(401);
    const borrowed = await post(url('other'), update(2), token(derivedTelegram('demo')));
    expect(borrowed.status).toBe(401);
    expect(await countsFor(atlas.db, 'other')).toEqual(before);
    const own = await post(url('other'), update(3), token(derivedTelegram('other')));
    expect(own.status).toBe(200);
    expect((await countsFor(atlas.db, 'other')).runs).toBe(before.runs + 1);
  });

  it('shows each tenant its own set-up (URL and derived secret_token), never another tenant’s', async () => {
    const res = await apiCall(atlas.url, 'GET', '/v1/webhook-routes', { tenant: 'demo' });
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: Array<Record<string, unknown>> };
    const byId = new Map(items.map((i) => [i.id, i]));
    expect(byId.get('telegram')).toEqual({
      id: 'telegram',
      method: 'POST',
      url: 'https://atlas.example.com/v1/telegram/webhook?tenantId=demo',
      secretName: 'TELEGRAM_WEBHOOK_SECRET',
      secret: 'derived',
      providerSecret: derivedTelegram('demo'),
    });
    expect(byId.get('stripe')).toMatchObject({ secret: 'own', secretName: 'STRIPE_WEBHOOK_SECRET' });
    expect(byId.get('stripe')).not.toHaveProperty('providerSecret');
    expect(byId.get('teams')).toMatchObject({ secret: 'missing' });
    expect(byId.get('stripe-connect-test')).toMatchObject({ secret: 'own' });
    expect(JSON.stringify(items)).not.toContain(derivedTelegram('other'));
    expect(JSON.stringify(items)).not.toContain(TELEGRAM_PLATFORM);

    const third = await apiCall(atlas.url, 'GET', '/v1/webhook-routes', { tenant: 'third' });
    const thirds = ((await third.json()) as { items: Array<Record<string, unknown>> }).items;
    expect(thirds.find((i) => i.id === 'stripe')).toMatchObject({ secret: 'missing' });
    expect(thirds.find((i) => i.id === 'stripe-connect-test')).toMatchObject({ secret: 'platform' });
    expect(thirds.find((i) => i.id === 'telegram')).toMatchObject({
      providerSecret: derivedTelegram('third'),
    });

    const denied = await apiCall(atlas.url, 'GET', '/v1/webhook-routes', {
      tenant: 'other',
      tenants: ['demo'],
    });
    expect(denied.status).toBe(403);
  });
});

describe('Standard Webhooks: Atlas chooses the key', () => {
  const send = (tenant: string, key: string) => {
    const body = JSON.stringify({ type: 'order.updated', data: { status: 'paid' } });
    const id = freshEventId('msg_');
    const at = new Date();
    return post(`${atlas.url}/v1/webhooks/standard-test`, body, {
      ...json,
      'x-atlas-tenant': tenant,
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(key).sign(id, at, body),
    });
  };

  it("verifies with the tenant's derived key, not with the platform key or another tenant's", async () => {
    expect((await send('third', STANDARD_PLATFORM)).status).toBe(401);
    expect((await send('third', derivedStandard('demo'))).status).toBe(401);
    expect((await send('third', derivedStandard('third'))).status).toBe(200);
  });
});

describe('secrets that decode to nothing', () => {
  it('refuses a Teams token or Standard Webhooks key under 16 bytes at PUT /v1/secrets', async () => {
    for (const [name, value] of [
      ['TEAMS_OUTGOING_WEBHOOK_TOKEN', '!!!!'],
      ['TEAMS_OUTGOING_WEBHOOK_TOKEN', 'AAAA'],
      ['STANDARD_TEST_SECRET', 'whsec_!!!!'],
      ['STANDARD_TEST_SECRET', `whsec_${randomBytes(24).toString('base64')} whsec_AAAA`],
    ] as const) {
      const res = await apiCall(atlas.url, 'PUT', `/v1/secrets/${name}`, {
        tenant: 'third',
        body: { value },
      });
      expect(res.status).toBe(422);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(((await res.json()) as { detail: string }).detail).toMatch(/16 bytes/);
    }
    expect((await atlas.db('tenant_secrets').where({ tenant_id: 'third' })).length).toBe(0);
    const good = randomBytes(32).toString('base64');
    const ok = await apiCall(atlas.url, 'PUT', '/v1/secrets/TEAMS_OUTGOING_WEBHOOK_TOKEN', {
      tenant: 'third',
      body: { value: good },
    });
    expect(ok.status).toBe(201);
    // A name no such route uses keeps any value.
    const other = await apiCall(atlas.url, 'PUT', '/v1/secrets/SOME_NOTE', {
      tenant: 'third',
      body: { value: '!!!!' },
    });
    expect(other.status).toBe(201);
  });
});

describe('a platform key that decodes to nothing', () => {
  it('stops the engine at start with a sentence naming the variable', async () => {
    await expect(startWebhookEngine(database, { STANDARD_TEST_SECRET: 'whsec_!!!!' })).rejects.toThrow(
      /^STANDARD_TEST_SECRET \(the platform secret of standard-test\): .*16 bytes/,
    );
  });
});
