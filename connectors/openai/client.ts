/**
 * The official OpenAI SDK, loaded on first use, for OpenAI and the OpenAI-compatible
 * providers (DeepSeek, Cerebras): one client shape, chosen by base URL and key. Requests go
 * through `ctx.http.fetch` (timeout, rate limit, audit) with `maxRetries: 0`: the engine's
 * step policy retries.
 */

import type { ActionContext } from 'atlas-engine/sdk';
import { ConnectorError, credential, credentialMissing } from 'atlas-engine/sdk';
import type OpenAI from 'openai';

export const PROVIDERS = {
  openai: { key: 'OPENAI_API_KEY', baseSetting: undefined, defaultBase: 'https://api.openai.com/v1' },
  deepseek: {
    key: 'DEEPSEEK_API_KEY',
    baseSetting: 'ATLAS_CONNECTOR_OPENAI_DEEPSEEK_BASE_URL',
    defaultBase: 'https://api.deepseek.com/v1',
  },
  cerebras: {
    key: 'CEREBRAS_API_KEY',
    baseSetting: 'ATLAS_CONNECTOR_OPENAI_CEREBRAS_BASE_URL',
    defaultBase: 'https://api.cerebras.ai/v1',
  },
} as const;

export type Provider = keyof typeof PROVIDERS;

export const providerSchema = {
  enum: Object.keys(PROVIDERS),
  default: 'openai',
  description: 'OpenAI, or an OpenAI-compatible provider (DeepSeek, Cerebras).',
};

/** The provider's base URL: OpenAI's is the connector base URL; the others have their own setting. */
function baseUrl(ctx: ActionContext, provider: Provider): string {
  const spec = PROVIDERS[provider];
  if (spec.baseSetting === undefined) return ctx.config.baseUrl ?? spec.defaultBase;
  return ctx.config.settings[spec.baseSetting] ?? spec.defaultBase;
}

export interface ProviderClient {
  client: OpenAI;
  /** The key is the platform's: calls spend the tenant's daily token budget. */
  platform: boolean;
}

/** A client with the tenant's own key, else the platform's when the operator offers it. */
export async function openaiClient(
  ctx: ActionContext,
  provider: Provider = 'openai',
): Promise<ProviderClient> {
  const spec = PROVIDERS[provider];
  if (!spec) throw ConnectorError.fatal('invalid_input', `unknown provider ${String(provider)}`);
  const key = await credential(ctx, spec.key);
  if (!key) throw credentialMissing(ctx, spec.key);
  const { default: OpenAISdk } = await import('openai');
  const client = new OpenAISdk({
    apiKey: key.value,
    baseURL: baseUrl(ctx, provider),
    fetch: ctx.http.fetch,
    maxRetries: 0,
  });
  return { client, platform: key.platform };
}

/**
 * One call on a platform key, metered: refused once the tenant's tokens of the day are spent,
 * and the `usage.total_tokens` of its answer counted (PostgreSQL, per tenant and UTC day). A
 * call that starts within the budget finishes; the next one is refused.
 */
export async function metered<T>(ctx: ActionContext, platform: boolean, call: () => Promise<T>): Promise<T> {
  if (!platform) return call();
  await ctx.platform.checkTokens();
  const answer = await call();
  await ctx.platform.spendTokens(totalTokens(answer));
  return answer;
}

/** `usage.total_tokens` of an answer (or prompt plus completion), 0 when it reports none. */
export function totalTokens(answer: unknown): number {
  const usage = (answer as { usage?: Record<string, unknown> } | null)?.usage;
  if (typeof usage !== 'object' || usage === null) return 0;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
  return n(usage['total_tokens']) || n(usage['prompt_tokens']) + n(usage['completion_tokens']);
}

interface OpenAIErrorLike {
  status?: number;
  headers?: Headers;
  code?: string | null;
  type?: string;
  message?: string;
  name?: string;
}

/**
 * SDK errors → ConnectorError. OpenAI sends `retry-after-ms` as well as `retry-after`; the
 * millisecond one is more precise. A `insufficient_quota` 429 is a billing problem that a
 * retry will not fix: fatal.
 */
export function mapOpenAIError(err: unknown, provider: string): ConnectorError {
  const found = ConnectorError.find(err);
  if (found) return found;
  const e = (err ?? {}) as OpenAIErrorLike;
  const message = `${provider}: ${(e.message ?? 'request failed').slice(0, 300)}`;
  const status = e.status;
  const extra = { cause: err, ...(status === undefined ? {} : { status }) };
  if (e.name === 'APIConnectionTimeoutError') return ConnectorError.retryable('timeout', message, extra);
  if (e.name === 'APIConnectionError') return ConnectorError.retryable('network', message, extra);
  if (err instanceof SyntaxError)
    return ConnectorError.invalidResponse(`${provider}: response is not valid JSON`, extra);
  if (status === undefined) return ConnectorError.fatal('openai_error', message, extra);
  if (status === 429 && e.code === 'insufficient_quota')
    return ConnectorError.fatal('insufficient_quota', message, extra);
  if (status === 401) return ConnectorError.auth('unauthorized', message, extra);
  if (status === 408 || status === 409 || status === 429 || status >= 500) {
    const retryAfterMs = retryAfter(e.headers);
    const code = status === 429 ? 'rate_limited' : status >= 500 ? 'provider_unavailable' : 'timeout';
    return ConnectorError.retryable(code, message, {
      ...extra,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  return ConnectorError.fatal(e.code ?? (status === 404 ? 'not_found' : 'provider_rejected'), message, extra);
}

function retryAfter(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return Math.min(ms, 3_600_000);
  const seconds = Number(headers?.get('retry-after'));
  if (Number.isFinite(seconds) && seconds > 0) return Math.min(seconds, 3600) * 1000;
  return undefined;
}
