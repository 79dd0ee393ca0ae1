import type { ActionContext } from 'atlas-engine/sdk';
import { ConnectorError, defineAction } from 'atlas-engine/sdk';
import { signDelivery } from '../../client.ts';
import { webhookRetryPolicy } from '../retry.ts';

/** Standard Webhooks recommends receivers answer within 15 s; longer is a failed attempt. */
export const WEBHOOK_TIMEOUT_MS = 15_000;
/** How much of a receiver's answer is kept for the delivery log. */
const RESPONSE_SNIPPET_BYTES = 1024;

export interface SendInput {
  url: string;
  type: string;
  data: unknown;
  secret: string;
  messageId?: string;
  headers?: Record<string, string>;
}

export interface SendOutput {
  messageId: string;
  status: number;
  attempt: number;
  durationMs: number;
  response: string;
}

const input = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'type', 'data', 'secret'],
  properties: {
    url: { type: 'string', format: 'uri', description: 'The receiver endpoint (http or https, public).' },
    type: { type: 'string', minLength: 1, description: 'Event type, e.g. `invoice.paid`.' },
    data: { description: 'The event payload, sent as `data` in the JSON body.' },
    secret: {
      type: 'string',
      minLength: 1,
      description: 'Name of the tenant secret holding the `whsec_` key.',
    },
    messageId: {
      type: 'string',
      description:
        'The `webhook-id`; defaults to the step idempotency key, so it is the same on every retry.',
    },
    headers: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Extra request headers (the webhook-* headers cannot be overridden).',
    },
  },
};

const output = {
  type: 'object',
  required: ['messageId', 'status', 'attempt', 'durationMs', 'response'],
  properties: {
    messageId: { type: 'string', description: 'The `webhook-id` sent (receivers dedup on it).' },
    status: { type: 'integer', description: 'The receiver’s 2xx status.' },
    attempt: { type: 'integer', description: 'Which delivery attempt succeeded.' },
    durationMs: { type: 'integer', description: 'Time to the receiver’s answer.' },
    response: { type: 'string', description: 'The first kilobyte of the receiver’s answer.' },
  },
};

export const send = defineAction<SendInput, SendOutput>({
  id: 'send',
  description: 'Deliver an event to a webhook endpoint, signed with Standard Webhooks. 2xx only is success.',
  jobType: 'WEBHOOK_SEND',
  jobRetry: webhookRetryPolicy,
  input,
  output,
  async run(ctx, args) {
    const secret = await ctx.secret(args.secret);
    if (!secret) throw ConnectorError.fatal('secret_missing', `tenant secret "${args.secret}" is not set`);
    const messageId = args.messageId ?? ctx.idempotencyKey;
    const at = new Date();
    const body = JSON.stringify({ type: args.type, timestamp: at.toISOString(), data: args.data });
    const signed = await signDelivery(secret, messageId, at, body);
    const started = performance.now();
    const response = await ctx.http.fetch(args.url, {
      method: 'POST',
      headers: { ...args.headers, 'content-type': 'application/json', ...signed },
      body,
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    const durationMs = Math.round(performance.now() - started);
    const snippet = await readSnippet(response);
    if (response.status >= 200 && response.status < 300) {
      return { messageId, status: response.status, attempt: ctx.attempt, durationMs, response: snippet };
    }
    throw deliveryError(ctx, response);
  },
});

/** Reads at most a kilobyte and drops the rest: a receiver's body is only for the log. */
async function readSnippet(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < RESPONSE_SNIPPET_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } catch {
    // A receiver that breaks its body after the status line still answered.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, RESPONSE_SNIPPET_BYTES).toString('utf8');
}

/**
 * Any non-2xx is a failed attempt retried on the delivery schedule; a receiver's 401/403 is
 * its own configuration, not an Atlas credential problem, so it is never `auth`. 410 Gone
 * means the endpoint asked to be removed: fatal, and the engine disables the endpoint.
 */
function deliveryError(ctx: ActionContext, response: Response): ConnectorError {
  const status = response.status;
  if (status === 410) {
    return ConnectorError.fatal('endpoint_gone', 'the endpoint answered 410 Gone; disable it', { status });
  }
  const seconds = Number(response.headers.get('retry-after'));
  const retryAfterMs = Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 3600) * 1000 : undefined;
  ctx.log.info({ status, attempt: ctx.attempt }, 'webhook:delivery-failed');
  return ConnectorError.retryable('delivery_failed', `the endpoint answered HTTP ${status}`, {
    status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}
