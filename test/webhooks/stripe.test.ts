/**
 * The done-when of inbound webhooks, through the engine as `atlas serve` composes it: a Stripe
 * `payment_intent.succeeded` signed by stripe-node starts WF-021 (one run, one queue job, one
 * event row, one audit entry, in one transaction); the same event again starts nothing, and
 * neither do ten identical deliveries at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileWebhookRoutes, pruneWebhookEvents } from '../../engine/webhooks/index.ts';
import { useTestDatabase } from '../helpers/db.ts';
import {
  countsFor,
  freshEventId,
  PLATFORM_STRIPE_SECRET,
  post,
  readFixture,
  signedStripe,
  startWebhookEngine,
  stripe,
  type WebhookEngine,
} from './harness.ts';

const database = useTestDatabase();
let atlas: WebhookEngine;
let event: Record<string, unknown>;
const TENANT_SECRET = 'whsec_acmeAcmeAcmeAcme0123456789abcdef';

beforeAll(async () => {
  atlas = await startWebhookEngine(database);
  event = await readFixture('payment_intent.succeeded.json');
  await atlas.tenant('acme', {
    workflows: ['WF-021', 'WF-901'],
    secrets: { STRIPE_WEBHOOK_SECRET: TENANT_SECRET },
  });
  await atlas.tenant('platform-only', { workflows: ['WF-021'] });
  await atlas.tenant('not-subscribed', { secrets: { STRIPE_WEBHOOK_SECRET: TENANT_SECRET } });
});
afterAll(async () => {
  await atlas?.close();
});

const stripeUrl = (tenant: string) => `${atlas.url}/v1/webhooks/stripe?tenantId=${tenant}`;
const withId = (e: Record<string, unknown>, id = freshEventId()) => ({ ...e, id });

describe('a Stripe payment_intent.succeeded', () => {
  it('starts WF-021 once: run, queue job, event row and audit entry; the redelivery starts nothing', async () => {
    const delivery = signedStripe(withId(event), TENANT_SECRET);
    const first = await post(stripeUrl('acme'), delivery.body, delivery.headers);
    expect(first.status).toBe(200);
    expect(first.headers.get('atlas-webhook-outcome')).toBe('accepted');
    expect(await first.json()).toEqual({ received: true });

    const eventId = (JSON.parse(delivery.body) as { id: string }).id;
    const runs = await atlas.db('workflow_runs').where({ tenant_id: 'acme' });
    expect(runs.map((r) => [r.workflow_id, r.status])).toEqual([['WF-021', 'queued']]);
    expect(runs[0].trigger).toMatchObject({
      type: 'webhook',
      route: 'stripe',
      eventId,
      eventType: 'payment_intent.succeeded',
      body: { data: { object: { amount_received: 4200 } } },
      query: { tenantId: 'acme' },
    });
    expect(runs[0].trigger.headers['stripe-signature']).toBeUndefined();
    const row = await atlas.db('webhook_events').where({ tenant_id: 'acme', event_id: eventId }).first();
    expect(row).toMatchObject({
      route_id: 'stripe',
      event_type: 'payment_intent.succeeded',
      run_ids: [runs[0].id],
    });
    expect(await countsFor(atlas.db, 'acme')).toEqual({ runs: 1, events: 1, jobs: 1 });

    const audit = await atlas.db('audit_log').where({ tenant_id: 'acme', entity_type: 'webhook' });
    expect(audit.map((a) => a.action)).toEqual(['webhook.receive']);
    expect(audit[0].summary).toMatchObject({ eventId, runIds: [runs[0].id] });
    // The payload is kept redacted: the payment intent's client_secret is a secret-named key.
    expect(audit[0].summary.payload.data.object.client_secret).toBe('[REDACTED]');

    const again = await post(stripeUrl('acme'), delivery.body, delivery.headers);
    expect(again.status).toBe(200);
    expect(again.headers.get('atlas-webhook-outcome')).toBe('duplicate');
    expect(await countsFor(atlas.db, 'acme')).toEqual({ runs: 1, events: 1, jobs: 1 });
  });

  it('ten identical deliveries at once start exactly one run', async () => {
    const before = await countsFor(atlas.db, 'acme');
    const delivery = signedStripe(withId(event), TENANT_SECRET);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => post(stripeUrl('acme'), delivery.body, delivery.headers)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    const outcomes = answers.map((a) => a.headers.get('atlas-webhook-outcome')).sort();
    expect(outcomes).toEqual(['accepted', ...Array(9).fill('duplicate')]);
    const after = await countsFor(atlas.db, 'acme');
    expect(after).toEqual({ runs: before.runs + 1, events: before.events + 1, jobs: before.jobs + 1 });
  });

  it('routes by event type: invoice.* reaches WF-901 only, and a filter that fails starts nothing', async () => {
    const invoice = {
      ...withId(event),
      type: 'invoice.finalized',
      data: { object: { id: 'in_1', amount_paid: 0 } },
    };
    const delivery = signedStripe(invoice, TENANT_SECRET);
    expect((await post(stripeUrl('acme'), delivery.body, delivery.headers)).status).toBe(200);
    const id = (invoice as { id: string }).id;
    const row = await atlas.db('webhook_events').where({ tenant_id: 'acme', event_id: id }).first();
    const runs = await atlas.db('workflow_runs').whereIn('id', row.run_ids);
    expect(runs.map((r) => r.workflow_id)).toEqual(['WF-901']);

    // WF-021's `if` wants amount_received > 0: recorded and acknowledged, no run.
    const free = { ...withId(event), data: { object: { id: 'pi_free', amount_received: 0 } } };
    const zero = signedStripe(free, TENANT_SECRET);
    expect((await post(stripeUrl('acme'), zero.body, zero.headers)).status).toBe(200);
    const zeroRow = await atlas
      .db('webhook_events')
      .where({ event_id: (free as { id: string }).id })
      .first();
    expect(zeroRow.run_ids).toEqual([]);
  });

  it('refuses the platform secret on this route (the query names the tenant), with or without a secret of its own', async () => {
    const viaPlatform = signedStripe(withId(event), PLATFORM_STRIPE_SECRET);
    const missing = await post(stripeUrl('platform-only'), viaPlatform.body, viaPlatform.headers);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { reason: string }).reason).toBe('secret_missing');
    expect((await countsFor(atlas.db, 'platform-only')).runs).toBe(0);

    const wrong = signedStripe(withId(event), PLATFORM_STRIPE_SECRET);
    const refused = await post(stripeUrl('acme'), wrong.body, wrong.headers);
    expect(refused.status).toBe(401);
  });

  it('accepts a delivery signed during a secret roll (several v1), and one for a tenant with no workflow enabled', async () => {
    const body = JSON.stringify(withId(event));
    const t = Math.floor(Date.now() / 1000);
    const v1 = (secret: string) =>
      /v1=[0-9a-f]{64}/.exec(
        stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: t }),
      )![0];
    const headers = {
      'content-type': 'application/json',
      'stripe-signature': `t=${t},${v1('whsec_rolledAway000000')},${v1(TENANT_SECRET)}`,
    };
    const rolled = await post(stripeUrl('acme'), body, headers);
    expect(rolled.status).toBe(200);
    expect(rolled.headers.get('atlas-webhook-outcome')).toBe('accepted');

    const quiet = signedStripe(withId(event), TENANT_SECRET);
    expect((await post(stripeUrl('not-subscribed'), quiet.body, quiet.headers)).status).toBe(200);
    expect(await countsFor(atlas.db, 'not-subscribed')).toEqual({ runs: 0, events: 1, jobs: 0 });
  });

  it('forgets event ids after the route dedupWindow (3d): pruned, the same event is new again', async () => {
    const delivery = signedStripe(withId(event), TENANT_SECRET);
    const eventId = (JSON.parse(delivery.body) as { id: string }).id;
    expect(
      (await post(stripeUrl('acme'), delivery.body, delivery.headers)).headers.get('atlas-webhook-outcome'),
    ).toBe('accepted');
    const routes = compileWebhookRoutes(atlas.engine.services.catalogue, { defaultToleranceMs: 300_000 });
    const stillRemembered = await pruneWebhookEvents(
      atlas.db,
      routes.values(),
      new Date(Date.now() + 2 * DAY),
    );
    expect(await atlas.db('webhook_events').where({ event_id: eventId }).first()).toBeDefined();
    const pruned = await pruneWebhookEvents(
      atlas.db,
      routes.values(),
      new Date(Date.now() + 3 * DAY + 60_000),
    );
    expect(pruned).toBeGreaterThan(stillRemembered);
    expect(await atlas.db('webhook_events').where({ route_id: 'stripe' })).toEqual([]);
    const fresh = signedStripe(JSON.parse(delivery.body) as Record<string, unknown>, TENANT_SECRET);
    const again = await post(stripeUrl('acme'), fresh.body, fresh.headers);
    expect(again.headers.get('atlas-webhook-outcome')).toBe('accepted');
  });

  it('refuses a disabled tenant with 404, like an unknown one', async () => {
    await atlas.tenant('gone', { workflows: ['WF-021'] });
    await atlas.db('tenants').where({ id: 'gone' }).update({ status: 'disabled' });
    const delivery = signedStripe(withId(event), PLATFORM_STRIPE_SECRET);
    const res = await post(stripeUrl('gone'), delivery.body, delivery.headers);
    expect(res.status).toBe(404);
    expect(await countsFor(atlas.db, 'gone')).toEqual({ runs: 0, events: 0, jobs: 0 });
  });

  it('refuses a tenant disabled while its active status is still cached, storing nothing', async () => {
    await atlas.tenant('leaving', {
      workflows: ['WF-021'],
      secrets: { STRIPE_WEBHOOK_SECRET: TENANT_SECRET },
    });
    const first = signedStripe(withId(event), TENANT_SECRET);
    expect((await post(stripeUrl('leaving'), first.body, first.headers)).status).toBe(200);
    await atlas.db('tenants').where({ id: 'leaving' }).update({ status: 'disabled' });
    const second = signedStripe(withId(event), TENANT_SECRET);
    const res = await post(stripeUrl('leaving'), second.body, second.headers);
    expect(res.status).toBe(404);
    expect(await countsFor(atlas.db, 'leaving')).toEqual({ runs: 1, events: 1, jobs: 1 });
  });
});

const DAY = 86_400_000;
