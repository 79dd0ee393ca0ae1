/**
 * Slack's errors. Web API methods answer HTTP 200 with `{ "ok": false, "error": "<code>" }`
 * for nearly every failure (https://api.slack.com/web#evaluating_responses); rate limits are
 * HTTP 429 with `Retry-After` in seconds (https://api.slack.com/apis/rate-limits), which the hub
 * already turns into a retryable error that waits that long.
 */
import { ConnectorError, type ConnectorErrorInit } from 'atlas-engine/sdk';

/** Codes that mean the token is not (or no longer) good: reconnecting the app fixes them. */
const AUTH = new Set(['not_authed', 'invalid_auth', 'account_inactive', 'token_revoked', 'token_expired']);
/** Codes worth another attempt. */
const TRANSIENT = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

/** The classified error for a Slack error code (channel_not_found, invalid_auth, ...). */
export function slackError(code: string, method: string): ConnectorError {
  const message = `slack ${method}: ${code}`;
  if (AUTH.has(code))
    return ConnectorError.auth(code, `${message}: reconnect the Slack app or set SLACK_BOT_TOKEN`);
  if (TRANSIENT.has(code)) return ConnectorError.retryable(code, message);
  return ConnectorError.fatal(code, message);
}

/** A non-2xx answer with Slack's body: its code replaces the generic one. */
export function mapSlackError(_status: number, body: unknown): Partial<ConnectorErrorInit> | undefined {
  if (body === null || typeof body !== 'object' || typeof (body as { error?: unknown }).error !== 'string')
    return undefined;
  return { code: (body as { error: string }).error };
}
