import { defineConnector } from 'atlas-engine/sdk';
import { mapResendError, RESEND_FROM, RESEND_KEY } from './client.ts';
import { send } from './lib/actions/send.ts';

/**
 * Email with a fallback: Microsoft Graph (through the msgraph connector) first, Resend when
 * Graph is not configured or keeps failing. The base URL is Resend's.
 */
export const email = defineConnector({
  id: 'email',
  description: 'Send email through Microsoft Graph, falling back to Resend (degraded mode).',
  auth: { type: 'secret', secrets: [RESEND_KEY], envFallback: { [RESEND_KEY]: RESEND_KEY } },
  baseUrl: 'https://api.resend.com',
  settings: [RESEND_KEY, RESEND_FROM],
  // Resend's default team limit: 2 requests per second.
  rateLimits: [{ limit: 2, windowMs: 1000 }],
  mapError: mapResendError,
  actions: [send],
});
