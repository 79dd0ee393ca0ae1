/**
 * The model behind an agent: the official OpenAI SDK, loaded on first use, pointed at the
 * agent's provider (OpenAI, DeepSeek, Cerebras, or any OpenAI-compatible `baseUrl`). Like the
 * `openai` connector (whose provider table and error mapping it shares), requests go through
 * `ctx.http.fetch` (timeout, rate limit, audit with the key redacted) with `maxRetries: 0`.
 */

import {
  type ActionContext,
  type AgentManifest,
  ConnectorError,
  type Credential,
  credential,
  credentialMissing,
} from 'atlas-engine/sdk';
import type OpenAI from 'openai';
import { PROVIDERS } from '../openai/client.ts';

type AgentModel = AgentManifest['model'];

/**
 * The OpenAI base URL setting is the `openai` connector's own (`ATLAS_CONNECTOR_OPENAI_BASE_URL`),
 * so one variable points both connectors at the same place (a proxy, or a test fake).
 */
export const OPENAI_BASE_SETTING = 'ATLAS_CONNECTOR_OPENAI_BASE_URL';

/** The environment settings the agent connector reads: the providers' keys and base URLs. */
export const MODEL_SETTINGS = [
  ...Object.values(PROVIDERS).map((p) => p.key),
  OPENAI_BASE_SETTING,
  ...Object.values(PROVIDERS).flatMap((p) => (p.baseSetting ? [p.baseSetting] : [])),
];

/** The manifest's `baseUrl` wins; otherwise the provider's setting, then its public URL. */
export function modelBaseUrl(ctx: ActionContext, model: AgentModel): string {
  if (model.baseUrl !== undefined) return model.baseUrl;
  if (model.provider === 'custom')
    throw ConnectorError.fatal('invalid_agent', 'a custom model provider needs a baseUrl');
  const spec = PROVIDERS[model.provider];
  const setting = spec.baseSetting ?? OPENAI_BASE_SETTING;
  return ctx.config.settings[setting] ?? spec.defaultBase;
}

/**
 * The API key: the tenant secret the manifest names, else the provider's own key as a tenant
 * secret, else the platform's when the operator offers it to tenants (then every model call
 * spends the tenant's daily token budget). A custom server without `apiKeySecret` gets a
 * placeholder: local OpenAI-compatible servers (Ollama, vLLM) ignore the key, but the SDK
 * insists on one.
 */
export async function modelApiKey(ctx: ActionContext, model: AgentModel): Promise<Credential> {
  if (model.apiKeySecret !== undefined) {
    const key = await ctx.secret(model.apiKeySecret);
    if (key) return { value: key, platform: false };
    throw ConnectorError.auth('token_missing', `the tenant secret ${model.apiKeySecret} is not set`);
  }
  if (model.provider === 'custom') return { value: 'unused', platform: false };
  const name = PROVIDERS[model.provider].key;
  const key = await credential(ctx, name);
  if (key) return key;
  throw credentialMissing(ctx, name);
}

export interface AgentModelClient {
  client: OpenAI;
  /** The key is the platform's: model calls spend the tenant's daily token budget. */
  platform: boolean;
}

export async function modelClient(ctx: ActionContext, model: AgentModel): Promise<AgentModelClient> {
  const key = await modelApiKey(ctx, model);
  const { default: OpenAISdk } = await import('openai');
  const client = new OpenAISdk({
    apiKey: key.value,
    baseURL: modelBaseUrl(ctx, model),
    fetch: ctx.http.fetch,
    maxRetries: 0,
  });
  return { client, platform: key.platform };
}
