/**
 * A signed webhook delivery nested deeper than the parse limit is refused with a clear 400
 * (`too_deep`), counted like every refusal (never in the audit log), stores nothing, and the server keeps
 * serving the deliveries that follow.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { poll } from '../helpers/poll.ts';
import {
  countsFor,
  freshEventId,
  post,
  readFixture,
  startWebhookEngine,
  stripe,
  type WebhookEngine,
} from './harness.ts';

const database = useTestDatabase();
let atlas: WebhookEngine;
let event: Record<string, unknown>;
const SECRET = 'whsec_acmeAcmeAcmeAcme0123456789abcdef';

beforeAll(async () => {
  atlas = await startWebhookEngine(database);
  event = await readFixture('payment_intent.succeeded.json');
  await atlas.tenant('acme', { workflows: ['WF-021'], secrets: { STRIPE_WEBHOOK_SECRET: SECRET } });
});
afterAll(async () => {
  await atlas?.close();
});

const url = () => `${atlas.url}/v1/webhooks/stripe?tenantId=acme`;

describe('a webhook body nested too deeply', () => {
  it('is a 400 too_deep problem+json, counted as a refusal; nothing is stored and the next delivery is accepted', async () => {
    // JSON.stringify itself cannot write 8,000 levels: build the text by hand.
    const metadata = `${'{"a":'.repeat(8000)}{}${'}'.repeat(8000)}`;
    const body = JSON.stringify({ ...event, id: freshEventId() }).replace(/}$/, `,"metadata":${metadata}}`);
    const headers = {
      'content-type': 'application/json',
      'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET }),
    };
    const res = await post(url(), body, headers);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await res.json()) as { reason: string; detail: string };
    expect(problem.reason).toBe('too_deep');
    expect(problem.detail).toMatch(/nested deeper than 64 levels/);
    expect(await countsFor(atlas.db, 'acme')).toEqual({ runs: 0, events: 0, jobs: 0 });
    expect(await atlas.db('audit_log').where({ tenant_id: 'acme', action: 'webhook.reject' })).toHaveLength(
      0,
    );
    await poll(
      async () =>
        (await atlas.db('webhook_rejections').where({ route_id: 'stripe', reason: 'too_deep' }).first()) ??
        undefined,
    );

    // At the limit, a delivery goes all the way: verified, redacted into the audit, stored,
    // matched by WF-021's JSON Logic, and its run created.
    const metadataAtLimit = `${'{"a":'.repeat(61)}{}${'}'.repeat(61)}`;
    const atLimit = JSON.stringify({ ...event, id: freshEventId() }).replace(
      /}$/,
      `,"metadata":${metadataAtLimit}}`,
    );
    const ok = await post(url(), atLimit, {
      'content-type': 'application/json',
      'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: atLimit, secret: SECRET }),
    });
    expect(ok.status).toBe(200);
    expect(await countsFor(atlas.db, 'acme')).toEqual({ runs: 1, events: 1, jobs: 1 });
  });
});
