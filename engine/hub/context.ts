/**
 * Builds the ActionContext an action runs with: the hub's HTTP client wired to the
 * connector's base URL, error mapper, rate limits and SSRF policy, with every credential the
 * context hands out remembered by the redactor so no audit entry or error message shows it.
 * The runtime supplies the stores (secrets, OAuth tokens, audit, limiter); tests supply maps.
 */

import type { AuditSink } from '../audit/entry.ts';
import { isSecretKey, makeRedactor, type Redactor } from '../audit/redact.ts';
import type {
  ActionContext,
  AttemptScope,
  ConnectorConfig,
  ConnectorDefinition,
  FileAccess,
  HttpAuth,
  Logger,
  RunData,
  TraceEvent,
} from '../connector-sdk/index.ts';
import { authHeaders } from './auth.ts';
import { makeHttpClient } from './http.ts';
import { MemoryPlatformStore, makePlatformAccess, type PlatformStore } from './platform.ts';
import { credentialFingerprint, type RateLimiter, resolveRateLimits } from './rate-limit.ts';
import type { SsrfPolicy } from './ssrf.ts';

export interface ActionContextDeps extends AttemptScope {
  connector: ConnectorDefinition;
  actionId: string;
  input: unknown;
  signal: AbortSignal;
  log: Logger;
  config: ConnectorConfig;
  audit: AuditSink;
  rateLimiter: RateLimiter;
  /** Reads a tenant secret (decrypted); `undefined` when not set. */
  secret(name: string): Promise<string | undefined>;
  /** A valid access token for the tenant's integration with `provider`. */
  accessToken(provider: string, opts?: { forceRefresh?: boolean }): Promise<string>;
  /** The `apiHosts` of an OAuthProvider manifest, for calls with `auth: { integration }`. */
  apiHosts?(provider: string): readonly string[] | undefined;
  /** The tenants' admin-only settings and platform token counts; without it, nothing is granted. */
  platform?: PlatformStore;
  /** The SSRF guard of every call (default: public addresses only). */
  ssrf?: SsrfPolicy;
  run?: RunData;
  callAction?(uses: string, input: unknown): Promise<unknown>;
  trace?(event: TraceEvent): Promise<void>;
  files?: FileAccess;
  redactor?: Redactor;
  maxResponseBytes?: number;
  fetchImpl?: typeof fetch;
}

/**
 * Whose quota a call spends, for rate-limit keys: platform credentials are shared by every
 * tenant (fingerprint of the configured values), tenant credentials are per tenant.
 */
export function credentialScope(
  connector: ConnectorDefinition,
  tenantId: string,
  config: ConnectorConfig,
): string {
  const auth = connector.auth;
  if (auth.type === 'env') {
    return credentialFingerprint(auth.variables.map((name) => config.settings[name] ?? '').join('\n'));
  }
  if (auth.type === 'oauth') return `${auth.provider}:${tenantId}`;
  // Tenant secrets, and connectors that resolve credentials themselves (several OAuth
  // providers, or a secret named in the input), count per tenant.
  return `tenant:${tenantId}`;
}

/**
 * What the operator configured for a connector: its base URL, its `*_URL` settings from the
 * environment (`ATLAS_CONNECTOR_OPENAI_DEEPSEEK_BASE_URL`, `ATLAS_CONNECTOR_MSGRAPH_LOGIN_URL`),
 * and `trustedUrls` (agents' `model.baseUrl`).
 */
export function trustedUrls(config: ConnectorConfig): string[] {
  const out = [...(config.baseUrl === undefined ? [] : [config.baseUrl]), ...(config.trustedUrls ?? [])];
  for (const [name, value] of Object.entries(config.settings)) {
    if (/(^|_)URL$/.test(name) && value !== undefined) out.push(value);
  }
  return out;
}

export function makeActionContext(deps: ActionContextDeps): ActionContext {
  const { connector } = deps;
  const redactor = deps.redactor ?? makeRedactor();
  for (const [name, value] of Object.entries(deps.config.settings)) {
    if (isSecretKey(name)) redactor.add(value);
  }
  const secret = async (name: string) => {
    const value = await deps.secret(name);
    redactor.add(value);
    return value;
  };
  const accessToken = async (provider: string, opts?: { forceRefresh?: boolean }) => {
    const token = await deps.accessToken(provider, opts);
    redactor.add(token);
    return token;
  };
  const auth = async (request: HttpAuth, url: URL) => {
    const resolved = await authHeaders(request, url, {
      secret,
      accessToken,
      apiHosts: (provider) => deps.apiHosts?.(provider),
    });
    for (const value of resolved.values) redactor.add(value);
    return resolved.headers;
  };
  // Who is calling: the HTTP client's audit entries and the action's context name the same.
  const call = {
    tenantId: deps.tenantId,
    connectorId: connector.id,
    actionId: deps.actionId,
    runId: deps.runId,
    stepId: deps.stepId,
    jobId: deps.jobId,
    attempt: deps.attempt,
  };
  const http = makeHttpClient({
    ...call,
    auth,
    ...(deps.config.baseUrl === undefined ? {} : { baseUrl: deps.config.baseUrl }),
    signal: deps.signal,
    audit: deps.audit,
    rateLimiter: deps.rateLimiter,
    rateLimits: resolveRateLimits(connector.rateLimits, {
      connectorId: connector.id,
      actionId: deps.actionId,
      credentialId: credentialScope(connector, deps.tenantId, deps.config),
      input: deps.input,
    }),
    ...(connector.mapError ? { mapError: connector.mapError } : {}),
    redactor,
    ...(deps.ssrf ? { ssrf: deps.ssrf } : {}),
    trustedOrigins: trustedUrls(deps.config),
    ...(connector.followRedirects === false ? { followRedirects: false } : {}),
    ...(deps.maxResponseBytes === undefined ? {} : { maxResponseBytes: deps.maxResponseBytes }),
    ...(deps.fetchImpl ? { fetchImpl: deps.fetchImpl } : {}),
    log: deps.log,
  });
  return {
    ...call,
    maxAttempts: deps.maxAttempts,
    idempotencyKey: deps.idempotencyKey,
    signal: deps.signal,
    log: deps.log,
    http,
    config: deps.config,
    secret,
    accessToken,
    run: deps.run ?? { input: deps.input, trigger: undefined, steps: {} },
    platform: makePlatformAccess(deps.platform ?? new MemoryPlatformStore(), deps.tenantId, connector.id),
    ...(deps.callAction ? { callAction: deps.callAction } : {}),
    ...(deps.trace ? { trace: deps.trace } : {}),
    ...(deps.files ? { files: deps.files } : {}),
  };
}
