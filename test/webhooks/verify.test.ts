/**
 * verifyRequest against the providers' own code as the oracle: stripe-node's
 * generateTestHeaderString and constructEvent, the standardwebhooks package's sign and
 * verify, and node:crypto for Teams. Properties: what the oracle signs verifies, any change
 * to body, secret or signature does not, and no input makes verification throw.
 */
import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../engine/config.ts';
import { formatErrors, validateSources, type WebhookVerify } from '../../engine/manifest/index.ts';
import { eventMatcher } from '../../engine/webhooks/index.ts';
import { type Verdict, type VerifyRequest, verifyRequest } from '../../engine/webhooks/verify.ts';
import { stripe } from './harness.ts';

const NOW = 1_750_000_000;
const STRIPE: WebhookVerify = { method: 'stripe-signature', secret: 'STRIPE_WEBHOOK_SECRET' };
const STANDARD: WebhookVerify = { method: 'standard-webhooks', secret: 'S' };
const TEAMS: WebhookVerify = { method: 'teams-hmac', secret: 'T' };

function request(
  raw: string | Buffer,
  headers: Record<string, string>,
  secret: string,
  nowSec = NOW,
): VerifyRequest {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { raw: Buffer.from(raw), header: (n) => lower[n] ?? '', secret, toleranceSec: 300, nowSec };
}

const reason = (v: Verdict) => (v.ok ? 'ok' : v.reason);
const stripeSecret = fc.stringMatching(/^whsec_[A-Za-z0-9]{8,40}$/);

describe('Stripe-Signature', () => {
  it('agrees with stripe-node on what it signs, and refuses any other body or secret', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), stripeSecret, stripeSecret, (body, secret, other) => {
        const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: NOW });
        const sig = { 'stripe-signature': header };
        expect(verifyRequest(STRIPE, request(body, sig, secret))).toEqual({ ok: true });
        expect(reason(verifyRequest(STRIPE, request(`${body}x`, sig, secret)))).toBe('signature_mismatch');
        if (other !== secret)
          expect(reason(verifyRequest(STRIPE, request(body, sig, other)))).toBe('signature_mismatch');
      }),
    );
  });

  it('honours the tolerance in both directions, as stripe-node does for the past', () => {
    const secret = 'whsec_tolerance0000000';
    const body = '{"id":"evt_1"}';
    const at = (t: number) => ({
      'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: t }),
    });
    expect(verifyRequest(STRIPE, request(body, at(NOW - 300), secret)).ok).toBe(true);
    expect(reason(verifyRequest(STRIPE, request(body, at(NOW - 301), secret)))).toBe('timestamp_stale');
    expect(reason(verifyRequest(STRIPE, request(body, at(NOW + 301), secret)))).toBe('timestamp_stale');
    // stripe-node itself refuses the stale one too.
    expect(() =>
      stripe.webhooks.constructEvent(
        body,
        at(Math.floor(Date.now() / 1000) - 301)['stripe-signature']!,
        secret,
      ),
    ).toThrow(/tolerance/);
  });

  it('accepts any of several v1 (Stripe rolling a secret) and any of several configured secrets', () => {
    const body = '{"id":"evt_2"}';
    const v1 = (secret: string) =>
      /v1=[0-9a-f]{64}/.exec(
        stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: NOW }),
      )![0];
    const header = { 'stripe-signature': `t=${NOW},v1=${'0'.repeat(64)},${v1('whsec_new000000')},v0=abc` };
    expect(verifyRequest(STRIPE, request(body, header, 'whsec_new000000')).ok).toBe(true);
    const single = { 'stripe-signature': `t=${NOW},${v1('whsec_old000000')}` };
    expect(verifyRequest(STRIPE, request(body, single, 'whsec_new000000 whsec_old000000')).ok).toBe(true);
    expect(verifyRequest(STRIPE, request(body, single, 'whsec_new000000')).ok).toBe(false);
  });

  it('tells a missing header (400) from a malformed one (400) from a wrong one (401)', () => {
    const cases: Array<[Record<string, string>, string, number]> = [
      [{}, 'header_missing', 400],
      [{ 'stripe-signature': 'v1=abc' }, 'header_malformed', 400],
      [{ 'stripe-signature': `t=${NOW}` }, 'header_malformed', 400],
      [{ 'stripe-signature': `t=soon,v1=${'a'.repeat(64)}` }, 'header_malformed', 400],
      [{ 'stripe-signature': `t=${NOW},v1=${'a'.repeat(64)}` }, 'signature_mismatch', 401],
    ];
    for (const [headers, why, status] of cases) {
      expect(verifyRequest(STRIPE, request('{}', headers, 'whsec_x'))).toMatchObject({
        ok: false,
        reason: why,
        status,
      });
    }
  });
});

describe('Standard Webhooks', () => {
  it('agrees with the standardwebhooks package: what it signs verifies here and there', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 40 }),
        fc.string({ maxLength: 200 }),
        (key, body) => {
          const secret = `whsec_${Buffer.from(key).toString('base64')}`;
          const wh = new Webhook(secret);
          const now = new Date();
          const headers = {
            'webhook-id': 'msg_1',
            'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
            'webhook-signature': wh.sign('msg_1', now, body),
          };
          const nowSec = Math.floor(now.getTime() / 1000);
          expect(verifyRequest(STANDARD, request(body, headers, secret, nowSec))).toEqual({ ok: true });
          expect(() => wh.verify(body, headers, { jsonParse: false })).not.toThrow();
          const tampered = { ...headers, 'webhook-id': 'msg_2' };
          expect(reason(verifyRequest(STANDARD, request(body, tampered, secret, nowSec)))).toBe(
            'signature_mismatch',
          );
          expect(() => wh.verify(body, tampered, { jsonParse: false })).toThrow(/signature/);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('Teams HMAC', () => {
  it('verifies a MAC keyed by the decoded token, computed here independently', () => {
    const token = randomBytes(32).toString('base64');
    const body = '{"type":"message","text":"hi"}';
    const mac = createHmac('sha256', Buffer.from(token, 'base64')).update(body, 'utf8').digest('base64');
    expect(verifyRequest(TEAMS, request(body, { authorization: `HMAC ${mac}` }, token)).ok).toBe(true);
    expect(reason(verifyRequest(TEAMS, request(body, { authorization: `Bearer ${mac}` }, token)))).toBe(
      'header_malformed',
    );
    expect(reason(verifyRequest(TEAMS, request(`${body} `, { authorization: `HMAC ${mac}` }, token)))).toBe(
      'signature_mismatch',
    );
  });
});

describe('keys that decode to nothing', () => {
  const body = '{"type":"message","id":"1"}';
  /** What anyone can compute without knowing a secret: an HMAC keyed by nothing. */
  const emptyKeyMac = (data: string) => createHmac('sha256', Buffer.alloc(0)).update(data).digest('base64');

  it('refuses a Teams token that is not base64 of 16+ bytes, even for a MAC made with the key it decodes to', () => {
    for (const token of ['!!!!', 'AAAA', Buffer.alloc(15, 7).toString('base64'), 'abc!def']) {
      const mac = createHmac('sha256', Buffer.from(token, 'base64')).update(body).digest('base64');
      const verdict = verifyRequest(TEAMS, request(body, { authorization: `HMAC ${mac}` }, token));
      expect(reason(verdict)).toBe('secret_invalid');
    }
    const token = Buffer.alloc(16, 7).toString('base64');
    const mac = createHmac('sha256', Buffer.alloc(16, 7)).update(body).digest('base64');
    expect(verifyRequest(TEAMS, request(body, { authorization: `HMAC ${mac}` }, token)).ok).toBe(true);
  });

  it('refuses a Standard Webhooks key under 16 bytes, and keeps the valid one of a rotated pair', () => {
    const id = 'msg_1';
    const at = String(NOW);
    const forged = emptyKeyMac(`${id}.${at}.${body}`);
    const headers = { 'webhook-id': id, 'webhook-timestamp': at, 'webhook-signature': `v1,${forged}` };
    expect(reason(verifyRequest(STANDARD, request(body, headers, 'whsec_!!!!')))).toBe('secret_invalid');
    const good = `whsec_${randomBytes(24).toString('base64')}`;
    const signed = new Webhook(good).sign(id, new Date(NOW * 1000), body);
    const real = { ...headers, 'webhook-signature': signed };
    expect(verifyRequest(STANDARD, request(body, real, `whsec_!!!! ${good}`)).ok).toBe(true);
    expect(reason(verifyRequest(STANDARD, request(body, headers, `whsec_!!!! ${good}`)))).toBe(
      'signature_mismatch',
    );
  });
});

describe('hostile input', () => {
  const methods: WebhookVerify[] = [
    STRIPE,
    STANDARD,
    TEAMS,
    { method: 'telegram-secret-token', secret: 'TG' },
    { method: 'hmac-sha256', secret: 'H', header: 'x-sig', prefix: 'sha256=', encoding: 'hex' },
    { method: 'hmac-sha256', secret: 'H', header: 'x-sig', encoding: 'base64' },
  ];
  const headerValue = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.stringMatching(/^(t=\d{0,12}|v1=[0-9a-f]{0,70}|v0=x|,|=| )*$/),
    fc.stringMatching(/^(HMAC |v1,|sha256=)?[A-Za-z0-9+/=]{0,60}$/),
  );

  it('never throws and never passes without the secret', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...methods),
        fc.uint8Array({ maxLength: 300 }),
        fc.dictionary(
          fc.constantFrom(
            'stripe-signature',
            'authorization',
            'webhook-id',
            'webhook-timestamp',
            'webhook-signature',
            'x-telegram-bot-api-secret-token',
            'x-sig',
          ),
          headerValue,
        ),
        (spec, body, headers) => {
          const verdict = verifyRequest(
            spec,
            request(Buffer.from(body), headers, 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0'),
          );
          expect(verdict.ok).toBe(false);
          if (!verdict.ok) expect([400, 401]).toContain(verdict.status);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('event types and configuration', () => {
  it('matches exact types, prefixes ending in * and everything', () => {
    const invoices = eventMatcher(['invoice.*', 'charge.refunded']);
    expect(['invoice.paid', 'invoice.finalized', 'charge.refunded'].every(invoices)).toBe(true);
    expect(['invoices.paid', 'charge.refunded.x', 'charge'].some(invoices)).toBe(false);
    expect(eventMatcher(['*'])('anything')).toBe(true);
    expect(eventMatcher(undefined)('anything')).toBe(true);
  });

  it('validates the platform webhook secrets and the tolerance at start', () => {
    const config = loadConfig({
      STRIPE_WEBHOOK_SECRET: 'whsec_abc',
      ATLAS_WEBHOOK_TOLERANCE: '2m',
      ATLAS_WEBHOOK_REJECT_LIMIT: '20',
    });
    expect(config.webhooks).toEqual({
      secrets: { STRIPE_WEBHOOK_SECRET: 'whsec_abc' },
      toleranceMs: 120_000,
      rejectLimit: 20,
    });
    expect(loadConfig({}).webhooks.rejectLimit).toBe(100);
    expect(() => loadConfig({ ATLAS_WEBHOOK_REJECT_LIMIT: '0' })).toThrow(
      /^ATLAS_WEBHOOK_REJECT_LIMIT must be a whole number from 1 to 1000000/,
    );
    expect(() => loadConfig({ STRIPE_WEBHOOK_SECRET: 'sk_live_oops' })).toThrow(
      /^STRIPE_WEBHOOK_SECRET must be/,
    );
    expect(() => loadConfig({ TELEGRAM_WEBHOOK_SECRET: 'has space!' })).toThrow(
      /^TELEGRAM_WEBHOOK_SECRET must be/,
    );
    expect(() => loadConfig({ TEAMS_WEBHOOK_SECRET: 'not*base64' })).toThrow(/^TEAMS_WEBHOOK_SECRET must be/);
    // Keys that decode to (almost) nothing, and a derivation key anyone could guess.
    expect(() => loadConfig({ TEAMS_WEBHOOK_SECRET: 'AAAA' })).toThrow(
      /^TEAMS_WEBHOOK_SECRET must be .*16 bytes/,
    );
    expect(() => loadConfig({ TELEGRAM_WEBHOOK_SECRET: 'short' })).toThrow(
      /^TELEGRAM_WEBHOOK_SECRET must be 16/,
    );
    expect(
      loadConfig({ TEAMS_WEBHOOK_SECRET: randomBytes(16).toString('base64') }).webhooks.secrets,
    ).toHaveProperty('TEAMS_WEBHOOK_SECRET');
    expect(() => loadConfig({ ATLAS_WEBHOOK_TOLERANCE: '2h' })).toThrow(
      /^ATLAS_WEBHOOK_TOLERANCE must be from 1s to 1h/,
    );
    expect(() => loadConfig({ ATLAS_WEBHOOK_TOLERANCE: 'soon' })).toThrow(
      /^ATLAS_WEBHOOK_TOLERANCE must be a duration/,
    );
    expect(loadConfig({}).webhooks.toleranceMs).toBe(300_000);
  });
});

describe('dedup windows and retry horizons', () => {
  const route = (method: WebhookVerify['method'], dedupWindow: string) =>
    [
      'apiVersion: atlas/v1',
      'kind: WebhookRoute',
      'id: short',
      'path: /v1/webhooks/short',
      'verify:',
      `  method: ${method}`,
      '  secret: SHORT_SECRET',
      '  header: x-signature',
      'event: { id: body.id }',
      'tenant: { from: query.tenantId }',
      `dedupWindow: ${dedupWindow}`,
      '',
    ].join('\n');
  const check = (method: WebhookVerify['method'], window: string) =>
    formatErrors(
      validateSources([{ file: 'short.yaml', text: route(method, window) }], { connectors: [] }).errors,
    );

  it('refuses a window shorter than the provider retries or a replay stays possible, naming file:line:col', () => {
    expect(check('telegram-secret-token', '1h')).toMatch(
      /^short\.yaml:11:14 {2}WebhookRoute short: dedupWindow 1h is shorter than .*Telegram.* \(1d\); write at least 1d/,
    );
    expect(check('teams-hmac', '12h')).toMatch(/dedupWindow 12h is shorter than .*\(1d\)/);
    expect(check('hmac-sha256', '2d')).toMatch(/dedupWindow 2d is shorter than .*\(3d\)/);
    expect(check('stripe-signature', '1d')).toMatch(/dedupWindow 1d is shorter than .*Stripe.*\(3d\)/);
    expect(check('telegram-secret-token', '1d')).toBe('');
    expect(check('hmac-sha256', '7d')).toBe('');
    // Timestamped schemes bound replays by their tolerance; no floor is imposed there.
    expect(check('standard-webhooks', '1h')).toBe('');
  });
});
