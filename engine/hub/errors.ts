/**
 * HTTP outcome → ConnectorError classification, in one place (ARCHITECTURE: Execution).
 * network and timeout → retryable; 408, 425, 429, 5xx → retryable honouring Retry-After;
 * 401 → auth; 403 and other 4xx → fatal. A connector's `mapError` then refines the result
 * from the provider's error body.
 */

import type { ConnectorDefinition, ConnectorErrorInit } from '../connector-sdk/index.ts';
import { ConnectorError } from '../connector-sdk/index.ts';
import { parseRetryAfter } from './retry-after.ts';

const RETRYABLE_STATUS = new Set([408, 425, 429]);

export function classifyStatus(status: number): ConnectorErrorInit['kind'] {
  if (status === 401) return 'auth';
  if (RETRYABLE_STATUS.has(status) || status >= 500) return 'retryable';
  return 'fatal';
}

function codeFor(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 429) return 'rate_limited';
  if (status === 408) return 'timeout';
  if (status >= 500) return 'provider_unavailable';
  return 'provider_rejected';
}

/** A short, redacted description of an error body for the message (never the whole body). */
function describeBody(body: unknown): string {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body.slice(0, 200);
  if (typeof body !== 'object') return String(body).slice(0, 200);
  const record = body as Record<string, unknown>;
  const nested = record['error'];
  const candidates = [
    record['description'],
    record['message'],
    typeof nested === 'object' && nested !== null ? (nested as Record<string, unknown>)['message'] : nested,
    record['error_description'],
    record['detail'],
    record['title'],
  ];
  const found = candidates.find((c) => typeof c === 'string');
  return typeof found === 'string' ? found.slice(0, 200) : '';
}

export interface HttpErrorInput {
  status: number;
  headers: Headers;
  body: unknown;
  connectorId: string;
  mapError?: ConnectorDefinition['mapError'];
  redactString: (value: string) => string;
}

/** Builds the ConnectorError for a non-accepted HTTP status. */
export function mapHttpError(input: HttpErrorInput): ConnectorError {
  const { status, headers, body } = input;
  const kind = classifyStatus(status);
  const detail = input.redactString(describeBody(body));
  const base: ConnectorErrorInit = {
    code: codeFor(status),
    kind,
    status,
    message: `${input.connectorId}: HTTP ${status}${detail ? `: ${detail}` : ''}`,
  };
  if (kind === 'retryable') {
    const retryAfterMs = parseRetryAfter(headers.get('retry-after'));
    if (retryAfterMs !== undefined) base.retryAfterMs = retryAfterMs;
  }
  let refined: Partial<ConnectorErrorInit> | undefined;
  try {
    refined = input.mapError?.(status, body, headers);
  } catch {
    // A connector's mapper failing on a hostile body must not hide the HTTP error itself.
    refined = undefined;
  }
  const merged = { ...base, ...refined };
  if (refined?.message) merged.message = input.redactString(refined.message);
  return new ConnectorError(merged);
}

/** Classifies a thrown fetch error: the step's abort, our per-call timeout, or the network. */
export function mapFetchFailure(err: unknown, stepSignal: AbortSignal, connectorId: string): ConnectorError {
  // A guard refusal inside the connection's lookup arrives as fetch's cause.
  const found = ConnectorError.find(err);
  if (found) return found;
  if (stepSignal.aborted && !isTimeoutReason(stepSignal.reason)) {
    return ConnectorError.fatal('cancelled', `${connectorId}: call cancelled`, { cause: err });
  }
  if (isTimeoutReason(err) || stepSignal.aborted || (err instanceof Error && err.name === 'AbortError')) {
    return ConnectorError.retryable('timeout', `${connectorId}: request timed out`, { cause: err });
  }
  const reason = err instanceof Error ? (errorCode(err.cause) ?? err.message) : 'unknown failure';
  return ConnectorError.retryable('network', `${connectorId}: network error (${reason})`, { cause: err });
}

function isTimeoutReason(value: unknown): boolean {
  return value instanceof Error && value.name === 'TimeoutError';
}

function errorCode(value: unknown): string | undefined {
  if (value && typeof value === 'object' && 'code' in value && typeof value.code === 'string')
    return value.code;
  return undefined;
}
