import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  webhookRetryPolicy as policy,
  WEBHOOK_RETRY_SCHEDULE_MS,
  webhook,
} from '../../connectors/webhook/index.ts';
import { decideRetry, failure } from '../../engine/runtime/retry.ts';
import { hostile, json } from '../fakes/server.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook.ts';
import { makeTestContext, runAction } from '../hub/context.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const secrets = { HOOK_SECRET: SECRET };
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver(SECRET);
});
afterAll(() => receiver.close());

const input = () => ({
  url: `${receiver.url}/hooks/atlas`,
  type: 'invoice.paid',
  data: { id: 'in_1' },
  secret: 'HOOK_SECRET',
});

describe('webhook.send', () => {
  it('delivers a payload that standardwebhooks verifies, with a stable webhook-id', async () => {
    const out = await runAction(webhook, 'send', input(), { secrets, idempotencyKey: 'run_1:notify' });
    expect(out).toMatchObject({ messageId: 'run_1:notify', status: 204, attempt: 1 });
    expect(receiver.verified.at(-1)).toMatchObject({ type: 'invoice.paid', data: { id: 'in_1' } });
    const retry = await runAction(webhook, 'send', input(), {
      secrets,
      idempotencyKey: 'run_1:notify',
      attempt: 2,
    });
    expect(retry).toMatchObject({ messageId: 'run_1:notify', attempt: 2 });
    const [a, b] = receiver.requests.slice(-2);
    expect(a!.header('webhook-id')).toBe(b!.header('webhook-id'));
  });

  it('fails verification when signed with another secret', async () => {
    const other = { HOOK_SECRET: 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD' };
    await expect(runAction(webhook, 'send', input(), { secrets: other })).rejects.toMatchObject({
      code: 'delivery_failed',
      kind: 'retryable',
      status: 400,
    });
  });

  it('treats 410 as endpoint_gone (fatal) and other non-2xx as retryable, 401 included', async () => {
    receiver.enqueue({ status: 410 });
    await expect(runAction(webhook, 'send', input(), { secrets })).rejects.toMatchObject({
      code: 'endpoint_gone',
      kind: 'fatal',
    });
    receiver.enqueue(json(401, { error: 'who are you' }));
    await expect(runAction(webhook, 'send', input(), { secrets })).rejects.toMatchObject({
      kind: 'retryable',
    });
    receiver.enqueue(json(429, {}, { 'retry-after': '30' }));
    await expect(runAction(webhook, 'send', input(), { secrets })).rejects.toMatchObject({
      kind: 'retryable',
      retryAfterMs: 30_000,
    });
    receiver.enqueue({ status: 301, headers: { location: 'http://169.254.169.254/' } });
    await expect(runAction(webhook, 'send', input(), { secrets })).rejects.toMatchObject({ status: 301 });
    expect(receiver.requests.at(-1)!.path).toBe('/hooks/atlas');
  });

  it('counts a 2xx with a hostile body as delivered, reading only a kilobyte', async () => {
    receiver.enqueue({ ...hostile.huge(), status: 200 });
    const out = await runAction<{ response: string }>(webhook, 'send', input(), { secrets });
    expect(out.response.length).toBeLessThanOrEqual(1024);
  });

  it('refuses private targets unless allow-listed', async () => {
    await expect(runAction(webhook, 'send', input(), { secrets, allowlist: '' })).rejects.toMatchObject({
      code: 'ssrf_blocked',
      kind: 'fatal',
    });
  });

  it('fails fatally on a missing or malformed secret', async () => {
    await expect(runAction(webhook, 'send', input(), { secrets: {} })).rejects.toMatchObject({
      code: 'secret_missing',
    });
    await expect(
      runAction(webhook, 'send', input(), { secrets: { HOOK_SECRET: 'whsec_!!' } }),
    ).rejects.toMatchObject({
      code: 'invalid_secret',
    });
  });

  it('times out a slow receiver as retryable', async () => {
    receiver.enqueue({ status: 204, delayMs: 2000 });
    await expect(runAction(webhook, 'send', input(), { secrets, timeoutMs: 200 })).rejects.toMatchObject({
      code: 'timeout',
      kind: 'retryable',
    });
  });

  it('keeps the secret out of audit entries and logs', async () => {
    const { ctx, audit, logs } = makeTestContext(webhook, 'send', { secrets });
    receiver.enqueue({ status: 500 });
    await expect(webhook.actions[0]!.run(ctx, input())).rejects.toMatchObject({ kind: 'retryable' });
    const everything = JSON.stringify(audit.entries) + JSON.stringify(logs);
    expect(audit.entries).toHaveLength(1);
    expect(everything).not.toContain(SECRET.slice(6));
    expect(audit.entries[0]!.requestHeaders!['webhook-signature']).toBe('[REDACTED]');
  });
});

describe('webhookRetryPolicy', () => {
  // The connector supplies the schedule; the engine's one retry decision applies it.
  const webhookRetryPolicy = {
    ...policy,
    delayMs(attempt: number, retryAfterMs?: number, random = Math.random): number | undefined {
      const init = { kind: 'retryable' as const, attempt, code: 'http_500', message: 'failed' };
      const decision = decideRetry(
        policy,
        failure({ ...init, ...(retryAfterMs ? { retryAfterMs } : {}) }),
        random,
      );
      return decision.retry ? decision.delayMs : undefined;
    },
  };

  it('follows 5s, 5m, 30m, 2h, 5h, 10h, 10h with ±20% jitter, then gives up', () => {
    expect(webhookRetryPolicy.maxAttempts).toBe(8);
    expect(WEBHOOK_RETRY_SCHEDULE_MS).toEqual([5e3, 3e5, 1.8e6, 7.2e6, 1.8e7, 3.6e7, 3.6e7]);
    expect(webhookRetryPolicy.delayMs(1, undefined, () => 0.5)).toBe(5000);
    expect(webhookRetryPolicy.delayMs(1, undefined, () => 0)).toBe(4000);
    expect(webhookRetryPolicy.delayMs(2, undefined, () => 1)).toBe(360_000);
    expect(webhookRetryPolicy.delayMs(1, 60_000, () => 0.5)).toBe(60_000);
    expect(webhookRetryPolicy.delayMs(8)).toBeUndefined();
  });
});
