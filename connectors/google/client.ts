/**
 * Google Calendar v3 and Drive v3 through the official per-API packages (`@googleapis/calendar`,
 * `@googleapis/drive`: 24 MB and 0.2 s to load, against 209 MB for `googleapis`), loaded on
 * first use. `rootUrl` is the connector base URL, requests go through `ctx.http.fetch`, the
 * tenant's OAuth token is a plain bearer header, and gaxios' own retries are off.
 */
import type { calendar_v3 } from '@googleapis/calendar';
import type { drive_v3 } from '@googleapis/drive';
import type { ActionContext } from 'atlas-engine/sdk';
import { ConnectorError, isRecord } from 'atlas-engine/sdk';

const DEFAULT_ROOT = 'https://www.googleapis.com/';

/** The API root with its trailing slash (googleapis joins paths onto it). */
export function googleRoot(ctx: ActionContext): string {
  const root = ctx.config.baseUrl ?? DEFAULT_ROOT;
  return root.endsWith('/') ? root : `${root}/`;
}

async function options(ctx: ActionContext) {
  const token = await ctx.accessToken('google');
  return {
    rootUrl: googleRoot(ctx),
    headers: { authorization: `Bearer ${token}` },
    fetchImplementation: ctx.http.fetch,
    retry: false,
    signal: ctx.signal,
  };
}

export async function calendarClient(ctx: ActionContext): Promise<calendar_v3.Calendar> {
  const { calendar } = await import('@googleapis/calendar');
  return calendar({ version: 'v3', ...(await options(ctx)) });
}

export async function driveClient(ctx: ActionContext): Promise<drive_v3.Drive> {
  const { drive } = await import('@googleapis/drive');
  return drive({ version: 'v3', ...(await options(ctx)) });
}

interface GaxiosErrorLike {
  status?: number;
  message?: string;
  response?: { status?: number; headers?: Headers | Record<string, string>; data?: unknown };
}

/** Google rate-limit reasons, which Google answers with 403 as often as with 429. */
const RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'backendError']);

/**
 * gaxios errors → ConnectorError. Google's error body is `{ error: { code, message, status,
 * errors: [{ reason }] } }`; Calendar and Drive report rate limits as 403 with reason
 * `rateLimitExceeded`/`userRateLimitExceeded`, which must be retried, not failed
 * (https://developers.google.com/calendar/api/guides/errors#403_rate_limit_exceeded).
 */
export function mapGoogleError(err: unknown, api: string): ConnectorError {
  const found = ConnectorError.find(err);
  if (found) return found;
  const e = (err ?? {}) as GaxiosErrorLike;
  const status = e.response?.status ?? e.status;
  const body =
    isRecord(e.response?.data) && isRecord(e.response.data['error']) ? e.response.data['error'] : undefined;
  const reasons = Array.isArray(body?.['errors'])
    ? body['errors'].map((x) => (isRecord(x) ? x['reason'] : undefined))
    : [];
  const detail = typeof body?.['message'] === 'string' ? body['message'] : (e.message ?? 'request failed');
  const message = `${api}: ${status ? `HTTP ${status}: ` : ''}${detail.slice(0, 300)}`;
  const extra = { cause: err, ...(status === undefined ? {} : { status }) };
  if (status === undefined) return ConnectorError.retryable('network', message, extra);
  if (status === 401) return ConnectorError.auth('unauthorized', message, extra);
  const rateLimited =
    status === 429 || (status === 403 && reasons.some((r) => typeof r === 'string' && RATE_REASONS.has(r)));
  if (rateLimited || status === 408 || status >= 500) {
    const retryAfterMs = retryAfter(e.response?.headers);
    return ConnectorError.retryable(rateLimited ? 'rate_limited' : 'provider_unavailable', message, {
      ...extra,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  const reason = reasons.find((r): r is string => typeof r === 'string');
  return ConnectorError.fatal(status === 404 ? 'not_found' : (reason ?? 'provider_rejected'), message, extra);
}

function retryAfter(headers: Headers | Record<string, string> | undefined): number | undefined {
  const raw = headers instanceof Headers ? headers.get('retry-after') : headers?.['retry-after'];
  const seconds = Number(raw);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 3600) * 1000 : undefined;
}

/** gaxios parses JSON when it can and hands back text when it cannot: check it is an object. */
export function expectData(data: unknown, what: string): Record<string, unknown> {
  if (!isRecord(data)) throw ConnectorError.invalidResponse(`${what}: expected a JSON object`);
  return data;
}
