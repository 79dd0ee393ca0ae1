/**
 * What can go wrong talking to an authorization server, decided in one place:
 * - `revoked`: the grant is gone (`invalid_grant`: refresh token revoked, expired or reused
 *   after rotation, or an authorization code already spent). The integration is disconnected;
 *   only the user can fix it, by authorizing again.
 * - `transient`: the network, a timeout, 429 or 5xx. Try again later.
 * - `client`: the platform's app is wrong (`invalid_client`, `unauthorized_client`, a redirect
 *   URI or scope the provider does not accept). An operator must fix the configuration.
 * - `invalid`: anything else the provider refused or answered in a shape OAuth does not allow.
 */
import * as oauth from 'oauth4webapi';
import { ConnectorError } from '../connector-sdk/index.ts';

export type OAuthFailureKind = 'revoked' | 'transient' | 'client' | 'invalid';

export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  constructor(
    readonly kind: OAuthFailureKind,
    /** The provider's OAuth error code (`invalid_grant`), or ours (`network_error`). */
    readonly code: string,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const CLIENT_ERRORS = new Set([
  'invalid_client',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
]);
const TRANSIENT_ERRORS = new Set(['temporarily_unavailable', 'server_error', 'slow_down']);

/** Coerces whatever a grant request threw into an {@link OAuthError}, keeping the cause. */
export function classifyOAuthError(err: unknown, provider: string): OAuthError {
  if (err instanceof OAuthError) return err;
  if (err instanceof oauth.ResponseBodyError) {
    const text = `${provider}: ${err.error}${err.error_description ? `: ${err.error_description}` : ''}`;
    if (err.status >= 500 || err.status === 429 || TRANSIENT_ERRORS.has(err.error))
      return new OAuthError('transient', err.error, text, err.status, { cause: err });
    if (err.error === 'invalid_grant')
      return new OAuthError('revoked', err.error, text, err.status, { cause: err });
    const kind = CLIENT_ERRORS.has(err.error) ? 'client' : 'invalid';
    return new OAuthError(kind, err.error, text, err.status, { cause: err });
  }
  if (err instanceof oauth.OperationProcessingError) {
    const status = err.cause instanceof Response ? err.cause.status : undefined;
    if (status !== undefined && (status >= 500 || status === 429))
      return new OAuthError('transient', 'provider_unavailable', `${provider}: HTTP ${status}`, status, {
        cause: err,
      });
    return new OAuthError('invalid', 'invalid_response', `${provider}: ${err.message}`, status, {
      cause: err,
    });
  }
  const e = err instanceof Error ? err : new Error(String(err));
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e instanceof TypeError)
    return new OAuthError('transient', 'network_error', `${provider}: ${e.message}`, undefined, { cause: e });
  return new OAuthError('invalid', 'oauth_error', `${provider}: ${e.message}`, undefined, { cause: e });
}

/** How a failed token renewal reaches the connector that asked for the token. */
export function toConnectorError(err: OAuthError, provider: string): ConnectorError {
  const extra = { cause: err, ...(err.status === undefined ? {} : { status: err.status }) };
  switch (err.kind) {
    case 'transient':
      return ConnectorError.retryable(err.code, `${err.message} (the token will be renewed on retry)`, extra);
    case 'revoked':
      return ConnectorError.auth('reauthorize', reauthorize(provider, err.message), extra);
    case 'client':
      return ConnectorError.fatal(
        'oauth_client',
        `${err.message}: check the ${provider} app's configuration`,
        extra,
      );
    default:
      return ConnectorError.fatal(err.code, err.message, extra);
  }
}

/** The one sentence every "this integration no longer works" error carries. */
export function reauthorize(provider: string, why: string): string {
  return `${why}; the ${provider} integration is disconnected: re-authorize it through GET /v1/oauth/${provider}/authorize`;
}
