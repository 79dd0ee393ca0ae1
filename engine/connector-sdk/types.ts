/**
 * The connector SDK: the only part of the engine a connector may import.
 *
 * Glossary (used everywhere in Atlas, and only these words):
 * - manifest: a YAML/JSON document (Workflow, WebhookRoute, OAuthProvider, Agent).
 * - connector: a folder under `connectors/` that reaches one provider; it declares actions.
 * - action: one typed operation of a connector (`telegram.sendMessage`), with an input and
 *   an output JSON Schema; `uses: <connector>.<action>` in a workflow step.
 * - trigger: what starts a run (schedule, webhook, manual, event).
 * - run: one execution of a workflow; step: one entry of a workflow's `steps`;
 *   attempt: one try of a step; job: one unit of work in the queue and its ledger row.
 * - delivery: one outbound or inbound webhook transmission.
 * - tenant: the customer every row and call is scoped to.
 */

import type { ConnectorError } from './errors.ts';
import type { Agent } from './manifest.gen.ts';
import type { ConnectorRegistry } from './registry.ts';
import type { FileAccess, PlatformAccess } from './tenant-access.ts';

export type { FileAccess, FileInfo, PlatformAccess, TenantSettings } from './tenant-access.ts';

import type { HttpClient } from './http-types.ts';

/** A JSON Schema (draft 2020-12) as plain data. */
export type JsonSchema = { [key: string]: unknown };

/** Minimal structured logger handed to connectors (a pino child in production). */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

/** How a connector authenticates; the engine resolves credentials, never the manifest. */
export type ConnectorAuth =
  | { type: 'none' }
  /** Platform credentials from the environment (e.g. `TELEGRAM_BOT_TOKEN`). */
  | { type: 'env'; variables: string[] }
  /** Per-tenant secrets from the encrypted store, with an optional environment fallback. */
  | { type: 'secret'; secrets: string[]; envFallback?: Record<string, string> }
  /** A tenant's OAuth integration with the named `OAuthProvider` manifest. */
  | { type: 'oauth'; provider: string };

/**
 * A rate limit, enforced across every worker through PostgreSQL. `key` is a template over
 * the action input (e.g. `chat:{{ chat_id }}`); without it the limit is per provider and
 * credential. A call over the limit waits or is rescheduled; it never fails for that.
 */
export interface RateLimit {
  /** Calls allowed per window. */
  limit: number;
  /** Window length in milliseconds. */
  windowMs: number;
  /** Optional per-key scope, rendered from the action input. */
  key?: string;
  /** Only these actions (ids); all when absent. */
  actions?: string[];
}

export type { HttpAuth, HttpClient, HttpRequest, HttpResponse } from './http-types.ts';

/** Read-only view of the run an action executes in. */
export interface RunData {
  workflowId?: string;
  input: unknown;
  trigger: unknown;
  steps: Record<string, { output?: unknown; status?: string }>;
}

/** Which attempt of what an action call is: the scope of its ledger rows, audit entries and logs. */
export interface AttemptScope {
  tenantId: string;
  /** Present when the action runs as a workflow step or a job. */
  runId?: string;
  stepId?: string;
  jobId?: string;
  /** 1-based attempt number, and the most attempts the policy allows. */
  attempt: number;
  maxAttempts: number;
  /** `run id + step id` (or the job id): stable across attempts; pass it to providers. */
  idempotencyKey: string;
}

export interface ActionContext extends AttemptScope {
  connectorId: string;
  actionId: string;
  /** Fires on the step's timeout or when the run is cancelled. */
  signal: AbortSignal;
  log: Logger;
  http: HttpClient;
  /** The connector's configuration: base URL and platform settings from the environment. */
  config: ConnectorConfig;
  /** Tenant secrets by name (decrypted on demand); `undefined` when not set. */
  secret(name: string): Promise<string | undefined>;
  /** A valid access token for the tenant's integration with an OAuth provider. */
  accessToken(provider: string, opts?: { forceRefresh?: boolean }): Promise<string>;
  run: RunData;
  /**
   * What the operator granted this tenant on the platform's own credentials: its admin-only
   * settings (mailboxes, LLM budget) and the daily token budget on platform LLM keys.
   */
  platform: PlatformAccess;
  /** Call another action in the same tenant context (used by `agent.run` and `email`). */
  callAction?(uses: string, input: unknown): Promise<unknown>;
  /**
   * Records a sub-step of this action in the ledger (an agent's model call or tool call),
   * visible with the job or run it belongs to. Inputs and outputs are redacted first.
   */
  trace?(event: TraceEvent): Promise<void>;
  /**
   * The tenant's files (`files` connector, and actions that send a file by its id). Errors
   * are ConnectorErrors: `file_not_found`, `quota_exceeded`, `file_too_large` (fatal),
   * `storage_unavailable` (retryable).
   */
  files?: FileAccess;
}

export interface TraceEvent {
  /** What happened, e.g. `model#1` or `tool#2 telegram.sendMessage`. */
  name: string;
  /** The action called, for tool calls. */
  uses?: string;
  status: 'succeeded' | 'failed';
  input?: unknown;
  output?: unknown;
  error?: unknown;
  durationMs?: number;
  /** Also leave an `audit_log` entry with this action (`agent.tool_refused`). */
  audit?: string;
}

export interface ConnectorConfig {
  /** Base URL for this connector's provider (overridable per connector from the env). */
  baseUrl?: string;
  /** Other settings, from `ATLAS_CONNECTOR_<ID>_<NAME>` or connector-declared variables. */
  settings: Record<string, string | undefined>;
  /**
   * Other URLs the operator configured for this connector (agents' `model.baseUrl`): their
   * origins, like the base URL's and those of `*_URL` settings, skip the SSRF check.
   */
  trustedUrls?: string[];
}

export interface ActionDefinition<I = unknown, O = unknown> {
  /** Stable id within the connector, camelCase or dotted (`outlook.sendMail`). */
  id: string;
  description: string;
  input: JsonSchema;
  output: JsonSchema;
  /** An example output, used by dry runs when no fixture is recorded. */
  example?: O;
  /** The ledger job type this action serves, if any (`EMAIL_SEND`, ...). */
  jobType?: JobType;
  /**
   * The retry schedule of the action when it runs as a typed job (`POST /v1/jobs`), e.g. the
   * outbound webhook schedule; workflow steps use the step's own policy instead.
   */
  jobRetry?: JobRetryPolicy;
  /**
   * The longest one attempt may take when the action runs as a typed job (30 s when absent);
   * in a workflow the step's `timeout` applies. An agent task, which bounds itself with its
   * manifest's limits, declares a longer one.
   */
  jobTimeoutMs?: number;
  /** True when the action changes nothing outside (safe to call in a dry run). */
  readOnly?: boolean;
  /**
   * True when the output depends only on the input and the run's data, and the action reads
   * and changes nothing else (no `ctx.http`, files, secrets, clock or randomness): a
   * computation. Atlas then records the attempt once, finished, in the run's next durable
   * write instead of a checkpoint of its own, and a worker that takes over the run computes
   * it again. Never declare it of an action with an effect: a replay would repeat it.
   */
  pure?: boolean;
  run(ctx: ActionContext, input: I): Promise<O>;
}

export interface ConnectorDefinition {
  id: string;
  description: string;
  /**
   * The SDK versions this connector works with, as a semver range (`^1.0.0`). Required of a
   * plugin (`ATLAS_CONNECTORS`): Atlas refuses to start when its `SDK_VERSION` is outside it.
   */
  sdkVersion?: string;
  auth: ConnectorAuth;
  /** Default base URL; `ATLAS_CONNECTOR_<ID>_BASE_URL` overrides it. */
  baseUrl?: string;
  /** Environment variables this connector reads into `config.settings`. */
  settings?: string[];
  rateLimits?: RateLimit[];
  /**
   * Refines the HTTP error mapping with a provider's error body (e.g. Telegram's
   * `parameters.retry_after`). Return fields to override on the mapped error.
   */
  mapError?(status: number, body: unknown, headers: Headers): Partial<ConnectorErrorInit> | undefined;
  /**
   * False when a 3xx must be the answer, not followed (outbound webhooks: a redirect is a
   * failed delivery). Every connector's calls go through the SSRF guard either way.
   */
  followRedirects?: boolean;
  actions: ActionDefinition[];
}

/**
 * An action's retry schedule for its jobs. The action only supplies it: the engine decides
 * (engine/runtime/retry.ts), retrying only retryable failures and never sooner than the
 * provider's Retry-After.
 */
export interface JobRetryPolicy {
  /** First attempt included. */
  maxAttempts: number;
  /**
   * The delay after attempt n (1-based) failed is `delaysMs[n - 1]`; none is left past the
   * end. Without it, the engine's default exponential backoff applies.
   */
  delaysMs?: readonly number[];
  /** ± this fraction of each delay is random (0 by default). */
  jitter?: number;
}

export const JOB_TYPES = [
  'EMAIL_SEND',
  'SOCIAL_PUBLISH',
  'WEBHOOK_SEND',
  'KB_INGEST',
  'AGENT_TASK',
  'TELEGRAM_SEND',
] as const;
export type JobType = (typeof JOB_TYPES)[number];

export type ErrorKind = 'retryable' | 'fatal' | 'auth';

export interface ConnectorErrorInit {
  code: string;
  message: string;
  kind: ErrorKind;
  /** Provider-requested delay before the next attempt (from `Retry-After` or a body). */
  retryAfterMs?: number;
  /** HTTP status from the provider, if any. */
  status?: number;
  cause?: unknown;
}

export type { ConnectorError };

/** An Agent manifest, as generated from `schemas/agent.schema.json` (one source of truth). */
export type AgentManifest = Agent;

/**
 * What the engine lends the `agent` connector (built in engine/services.ts over the loaded
 * catalogue and the connector registry): agent manifests by id, and the registry the agents'
 * tools come from, so a tool's parameters are the action's own input schema object.
 */
export interface AgentDirectory {
  agent(id: string): AgentManifest | undefined;
  actions: Pick<ConnectorRegistry, 'action' | 'validateInput'>;
}
