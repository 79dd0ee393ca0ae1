/**
 * A provider that answers JSON nested deeper than the parse limit: the step fails with the
 * fatal `invalid_response` (not retried, the run ends), the engine keeps running, and the
 * next run against a sane answer succeeds. Both ways a connector reads a response are
 * covered: `ctx.http.request` (http.request) and the SDK-facing fetch (the Stripe SDK).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeServer, hostile, json, startFake } from '../fakes/server.ts';
import { STRIPE_KEY, startStripe } from '../fakes/stripe.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';

const database = useTestDatabase();
let engine: TestEngine;
let fake: FakeServer;
let stripe: FakeServer;

beforeAll(async () => {
  fake = await startFake(() => json(200, { ok: true }));
  stripe = await startStripe();
  engine = await startTestEngine(database, {
    env: {
      ATLAS_OUTBOUND_ALLOWLIST: '127.0.0.1',
      ATLAS_CONNECTOR_STRIPE_BASE_URL: stripe.url,
    },
    manifests: {
      'WF-801.yaml': `apiVersion: atlas/v1
kind: Workflow
id: WF-801
trigger: { type: manual }
steps:
  - id: call
    uses: http.request
    with: { url: "${fake.url}/status" }
    retry: { maxAttempts: 3, backoff: { initial: 10ms, factor: 1, jitter: 0 } }
`,
      'WF-802.yaml': `apiVersion: atlas/v1
kind: Workflow
id: WF-802
trigger: { type: manual }
steps:
  - id: call
    uses: stripe.invoices.list
    with: { limit: 3 }
    retry: { maxAttempts: 3, backoff: { initial: 10ms, factor: 1, jitter: 0 } }
`,
    },
  });
  // The tenant's own key: the platform's Stripe account is never offered to tenants.
  await engine.services.secrets.put('acme', 'STRIPE_SECRET_KEY', STRIPE_KEY);
  await engine.startWorker();
});
afterAll(async () => {
  await engine?.stop();
  await fake?.close();
  await stripe?.close();
});

describe('a provider answering JSON nested 8,000 levels deep', () => {
  it.each([
    ['http.request (ctx.http.request)', 'WF-801', () => fake],
    ['stripe.invoices.list (the SDK through ctx.http.fetch)', 'WF-802', () => stripe],
  ])('%s: one attempt, a fatal invalid_response; the next run succeeds', async (_name, workflow, server) => {
    server().enqueue(hostile.tooDeep());
    const failed = await engine.runToEnd(workflow);
    expect(failed.status).toBe('failed');
    const attempts = failed.steps.find((s) => s.id === 'call')!.attempts;
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.error).toMatchObject({ code: 'invalid_response' });
    expect(JSON.stringify(attempts[0]!.error)).toMatch(/nested deeper than 64 levels/);

    const ok = await engine.runToEnd(workflow);
    expect(ok.status).toBe('succeeded');
  });
});
