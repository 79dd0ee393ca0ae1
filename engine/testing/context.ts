/**
 * A real ActionContext for tests (ours and connector authors', through
 * `atlas-engine/sdk/testing`): the hub's real HTTP client, an in-memory audit sink and rate
 * limiter, secrets and OAuth tokens from maps, a logger that keeps its lines, and a step
 * signal with a timeout. No database.
 */

import { MemoryAuditSink } from '../audit/entry.ts';
import { makeRedactor, type Redactor } from '../audit/redact.ts';
import type { ActionContext, ConnectorDefinition, Logger, TenantSettings } from '../connector-sdk/index.ts';
import { makeActionContext } from '../hub/context.ts';
import { MemoryPlatformStore, type PlatformStore } from '../hub/platform.ts';
import { MemoryRateLimiter, type RateLimiter } from '../hub/rate-limit.ts';
import { parseAllowlist } from '../hub/ssrf.ts';

export interface TestContextOptions {
  /** Base URL (a fake's URL); defaults to the connector's own. */
  baseUrl?: string;
  /** The connector's settings from the environment: platform credentials here are offered ones. */
  settings?: Record<string, string | undefined>;
  /** The tenant's admin-only settings (mailboxes, LLM budget, Telegram chats). */
  tenantSettings?: TenantSettings;
  /** Settings and token counts of every tenant, instead of `tenantSettings`. */
  platform?: PlatformStore;
  secrets?: Record<string, string>;
  /** OAuth access tokens by provider. */
  tokens?: Record<string, string>;
  input?: unknown;
  tenantId?: string;
  runId?: string;
  stepId?: string;
  attempt?: number;
  maxAttempts?: number;
  idempotencyKey?: string;
  /** Step timeout (ms), default 5 s. */
  timeoutMs?: number;
  /** SSRF allow-list (`ATLAS_OUTBOUND_ALLOWLIST` syntax), default `127.0.0.1`. */
  allowlist?: string;
  maxResponseBytes?: number;
  /** Connectors reachable through `ctx.callAction` (e.g. msgraph for email). */
  connectors?: ConnectorDefinition[];
  /** Per-connector base URLs for `callAction` targets. */
  baseUrls?: Record<string, string>;
  audit?: MemoryAuditSink;
  rateLimiter?: RateLimiter;
  logs?: LogLine[];
  redactor?: Redactor;
}

export interface LogLine {
  level: string;
  line: string;
}

export interface TestContext {
  ctx: ActionContext;
  audit: MemoryAuditSink;
  logs: LogLine[];
  redactor: Redactor;
}

/** A logger that serialises each line as the production logger would. */
export function memoryLogger(lines: LogLine[]): Logger {
  const write = (level: string) => (obj: object | string, msg?: string) => {
    lines.push({ level, line: JSON.stringify(typeof obj === 'string' ? { msg: obj } : { ...obj, msg }) });
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/**
 * Tests talk to 127.0.0.1 only: a call that would leave the machine (an SDK ignoring its
 * configured base URL, say) fails loudly instead of reaching a real provider.
 */
export const localOnlyFetch: typeof fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.hostname !== '127.0.0.1') return Promise.reject(new Error(`test egress refused: ${url.host}`));
  return fetch(input, init);
};

export function makeTestContext(
  connector: ConnectorDefinition,
  actionId: string,
  opts: TestContextOptions = {},
): TestContext {
  const audit = opts.audit ?? new MemoryAuditSink();
  const logs = opts.logs ?? [];
  const redactor = opts.redactor ?? makeRedactor();
  const rateLimiter = opts.rateLimiter ?? new MemoryRateLimiter();
  const baseUrl = opts.baseUrl ?? opts.baseUrls?.[connector.id] ?? connector.baseUrl;
  const tenantId = opts.tenantId ?? 'tenant_test';
  const runId = opts.runId ?? 'run_test';
  const stepId = opts.stepId ?? 'step_test';
  const platform = opts.platform ?? new MemoryPlatformStore({ [tenantId]: opts.tenantSettings ?? {} });
  const ctx = makeActionContext({
    connector,
    actionId,
    input: opts.input,
    tenantId,
    runId,
    stepId,
    attempt: opts.attempt ?? 1,
    maxAttempts: opts.maxAttempts ?? 3,
    idempotencyKey: opts.idempotencyKey ?? `${runId}:${stepId}`,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
    log: memoryLogger(logs),
    config: { ...(baseUrl === undefined ? {} : { baseUrl }), settings: { ...opts.settings } },
    audit,
    rateLimiter,
    secret: async (name) => opts.secrets?.[name],
    accessToken: async (provider) => {
      const token = opts.tokens?.[provider];
      if (token === undefined) throw new Error(`no ${provider} integration in this test`);
      return token;
    },
    ssrf: parseAllowlist(opts.allowlist ?? '127.0.0.1'),
    platform,
    redactor,
    fetchImpl: localOnlyFetch,
    ...(opts.maxResponseBytes === undefined ? {} : { maxResponseBytes: opts.maxResponseBytes }),
    callAction: async (uses, input) => {
      const [connectorId, ...rest] = uses.split('.');
      const target = opts.connectors?.find((c) => c.id === connectorId);
      const action = target?.actions.find((a) => a.id === rest.join('.'));
      if (!target || !action) throw new Error(`unknown action ${uses}`);
      const child = makeTestContext(target, action.id, {
        ...opts,
        baseUrl: undefined,
        input,
        audit,
        logs,
        redactor,
        rateLimiter,
        platform,
      });
      return action.run(child.ctx, input);
    },
  });
  return { ctx, audit, logs, redactor };
}
