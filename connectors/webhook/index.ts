import { defineConnector } from 'atlas-engine/sdk';
import { send } from './lib/actions/send.ts';

export { WEBHOOK_TIMEOUT_MS } from './lib/actions/send.ts';
export {
  type DeliveryRetryPolicy,
  WEBHOOK_RETRY_JITTER,
  WEBHOOK_RETRY_SCHEDULE_MS,
  webhookRetryPolicy,
} from './lib/retry.ts';

/**
 * Outbound webhooks, signed per Standard Webhooks (https://www.standardwebhooks.com/).
 * Targets come from tenants; like every call they go through the SSRF guard, and a redirect is
 * a failed delivery, not followed.
 */
export const webhook = defineConnector({
  id: 'webhook',
  description: 'Deliver signed events to webhook endpoints (Standard Webhooks).',
  // The signing secret is a tenant secret named in the step input.
  auth: { type: 'none' },
  followRedirects: false,
  actions: [send],
});
