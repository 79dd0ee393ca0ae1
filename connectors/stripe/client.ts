/**
 * The official Stripe SDK, built per call and loaded on first use (no top-level import).
 * Pointed at the connector's base URL (`host`/`port`/`protocol`), sending through `ctx.http.fetch`
 * (timeout, rate limit, audit), with `maxNetworkRetries: 0`: the engine's step policy retries,
 * and the step's idempotency key makes a retried create safe.
 */

import type { ActionContext } from 'atlas-engine/sdk';
import { ConnectorError } from 'atlas-engine/sdk';
import type Stripe from 'stripe';

export const STRIPE_KEY = 'STRIPE_SECRET_KEY';
const DEFAULT_BASE_URL = 'https://api.stripe.com';

export interface StripeHandle {
  stripe: Stripe;
  /** Status of the last HTTP answer; stripe-node drops it when the body is not JSON. */
  lastStatus(): number | undefined;
}

export async function stripeClient(ctx: ActionContext): Promise<StripeHandle> {
  // A tenant's own account only: the environment's key, if any, is never used for a tenant.
  const key = await ctx.secret(STRIPE_KEY);
  if (!key)
    throw ConnectorError.auth(
      'token_missing',
      `${STRIPE_KEY} is not set as a tenant secret (the platform's Stripe account is never used for tenants)`,
    );
  const { default: StripeSdk } = await import('stripe');
  const base = new URL(ctx.config.baseUrl ?? DEFAULT_BASE_URL);
  const protocol = base.protocol === 'http:' ? 'http' : 'https';
  // stripe-node takes a host and port but no path prefix: a base URL with one (a gateway,
  // `https://gateway.example.com/stripe`) is honoured by prefixing each request's path here.
  const prefix = base.pathname.replace(/\/+$/, '');
  let lastStatus: number | undefined;
  const fetchAndNote = async (input: string | URL | Request, init?: RequestInit) => {
    const response = await ctx.http.fetch(withPrefix(input, prefix), init);
    lastStatus = response.status;
    return response;
  };
  const stripe = new StripeSdk(key, {
    host: base.hostname,
    port: base.port || (protocol === 'http' ? 80 : 443),
    protocol,
    httpClient: StripeSdk.createFetchHttpClient(fetchAndNote as typeof fetch),
    maxNetworkRetries: 0,
    telemetry: false,
    appInfo: { name: 'Atlas' },
  });
  return { stripe, lastStatus: () => lastStatus };
}

function withPrefix(input: string | URL | Request, prefix: string): string | URL | Request {
  if (prefix === '' || input instanceof Request) return input;
  const url = new URL(input);
  url.pathname = `${prefix}${url.pathname}`;
  return url;
}

/** Request options for a create: the step's idempotency key becomes `Idempotency-Key`. */
export function createOptions(ctx: ActionContext): Stripe.RequestOptions {
  return { idempotencyKey: ctx.idempotencyKey };
}

/** The fields of a stripe-node error we classify on. */
interface StripeErrorLike {
  type?: string;
  code?: string;
  decline_code?: string;
  message?: string;
  statusCode?: number;
  headers?: Record<string, string>;
}

/**
 * stripe-node errors → ConnectorError. Stripe's own `Stripe-Should-Retry` header wins when
 * present (it says so for lock timeouts and idempotency races); otherwise rate limits and 5xx
 * are retryable, authentication is `auth`, card and invalid-request errors are fatal.
 */
export function mapStripeError(err: unknown, lastStatus?: number): ConnectorError {
  const found = ConnectorError.find(err);
  if (found) return found;
  const e = (err ?? {}) as StripeErrorLike;
  const status = e.statusCode ?? lastStatus;
  const message = `stripe: ${e.message ?? 'request failed'}`;
  const extra = { cause: err, ...(status === undefined ? {} : { status }) };
  const shouldRetry = e.headers?.['stripe-should-retry'];
  if (e.type === 'StripeRateLimitError') {
    const seconds = Number(e.headers?.['retry-after']);
    const retryAfterMs = Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 3600) * 1000 : undefined;
    return ConnectorError.retryable('rate_limited', message, {
      ...extra,
      ...(retryAfterMs ? { retryAfterMs } : {}),
    });
  }
  if (e.type === 'StripeAuthenticationError') return ConnectorError.auth('unauthorized', message, extra);
  if (e.type === 'StripeConnectionError') return ConnectorError.retryable('network', message, extra);
  if (shouldRetry === 'true') return ConnectorError.retryable(e.code ?? 'provider_busy', message, extra);
  if (e.type === 'StripeAPIError') {
    // A proxy's HTML error page (502 from a load balancer) is not Stripe's JSON.
    if (/Invalid JSON/i.test(e.message ?? '') && (status === undefined || status < 500)) {
      return ConnectorError.invalidResponse(message, extra);
    }
    if (shouldRetry === 'false') return ConnectorError.fatal(e.code ?? 'provider_rejected', message, extra);
    return ConnectorError.retryable('provider_unavailable', message, extra);
  }
  if (e.type === 'StripeCardError') {
    return ConnectorError.fatal(
      e.code ?? 'card_declined',
      e.decline_code ? `${message} (${e.decline_code})` : message,
      extra,
    );
  }
  if (e.type === 'StripeIdempotencyError')
    return ConnectorError.fatal('idempotency_conflict', message, extra);
  if (e.type === 'StripePermissionError') return ConnectorError.fatal('forbidden', message, extra);
  if (e.type === 'StripeInvalidRequestError') {
    return ConnectorError.fatal(status === 404 ? 'not_found' : (e.code ?? 'invalid_request'), message, extra);
  }
  return ConnectorError.fatal('stripe_error', message, extra);
}
