/** The shape of Atlas's configuration: what `loadConfig` returns. */
import type { FilesConfig } from './data.ts';
import type { LogLevel } from './parse.ts';

export interface Config {
  /** PostgreSQL URL; undefined means "use the embedded PostgreSQL in `home`". */
  databaseUrl: string | undefined;
  /**
   * A direct (session) URL of the same database, for what a transaction-mode pooler cannot
   * carry: migrations, the queue's LISTEN, replication. Undefined means `databaseUrl`.
   */
  directUrl: string | undefined;
  host: string;
  port: number;
  logLevel: LogLevel;
  /** Where the embedded database, the development keys and the lock file live. */
  home: string;
  /** Directories of the manifest catalogue. */
  manifestDirs: string[];
  /** Parallel jobs per worker process. */
  workerConcurrency: number;
  /** Defaults of each tenant's limits (its `limits` setting overrides them). */
  tenantLimits: TenantLimits;
  /** How long a shutdown waits for running jobs before it stops anyway (ms). */
  shutdownTimeoutMs: number;
  /** A worker silent this long is presumed dead and its work released (ms). */
  workerTimeoutMs: number;
  /** Largest accepted JSON request body (bytes). */
  bodyLimitBytes: number;
  /** The database pool size of one process. */
  poolSize: number;
  /** How far back schedules fire the times missed while no worker ran (0: none). */
  cronBackfillMs: number;
  /** How API tokens are verified; no secret and no JWKS URL means every API call is refused. */
  auth: AuthConfig;
  /** Bearer token `GET /metrics` requires; unset means open, which only a loopback HOST allows. */
  metricsToken: string | undefined;
  /** Where OAuth providers send users back, and where Atlas sends them next. */
  oauth: OAuthConfig;
  /** Inbound webhooks: platform signing secrets and the default timestamp tolerance. */
  webhooks: WebhookConfig;
  /**
   * Connectors whose platform credentials (environment keys) tenants without their own may
   * use (ATLAS_PLATFORM_CREDENTIALS); every other connector sees no platform credential.
   */
  platformCredentials: ReadonlySet<string>;
  /** Connector plugins to load at start (ATLAS_CONNECTORS): npm package names or paths. */
  connectorPlugins: readonly string[];
  /** Standard Webhooks secret (`whsec_...`) `atlas audit anchor --webhook` signs with. */
  auditAnchorSecret: string | undefined;
  /** Hosts and networks outbound calls may reach although not public (the SSRF guard's allowlist). */
  outboundAllowlist: OutboundAllowlist;
  /** File storage: the driver, its bucket and endpoint, and the default quotas. */
  files: FilesConfig;
  /** The change feed: `auto` reads a replication slot when the database allows it; its WAL limit. */
  feed: { mode: 'auto' | 'off'; maxLagBytes: number; retentionMs: number };
  /** The knowledge base: largest document (ATLAS_KB_MAX_BYTES), vector cache budget (ATLAS_KB_VECTOR_CACHE). */
  kb: { maxBytes: number; vectorCacheBytes: number };
  /** ATLAS_TRUST_PROXY: client addresses from `X-Forwarded-*` (behind a reverse proxy). */
  trustProxy: boolean;
  /** ATLAS_ENCRYPTION_KEY, validated; unset: a development key in `home`. */
  encryptionKey: string | undefined;
  /** Connector settings by full name (`ATLAS_CONNECTOR_<ID>_<KEY>`). */
  connectorVariables: Readonly<Record<string, string>>;
  /**
   * Variables named elsewhere than in the declarations: platform keys a connector declares,
   * OAuth client credentials a provider manifest names, a webhook route's platform secret.
   * Declared variables are not in it.
   */
  env: Readonly<Record<string, string | undefined>>;
}

export interface AuthConfig {
  /** HS256 shared secret (ATLAS_JWT_SECRET). */
  jwtSecret: string | undefined;
  /** Where RS256/ES256 public keys are fetched (ATLAS_JWKS_URL). */
  jwksUrl: string | undefined;
  /** Required `iss` when set. */
  issuer: string | undefined;
  /** Required `aud` when set. */
  audience: string | undefined;
}

export interface WebhookConfig {
  /**
   * Platform signing secrets by variable name (STRIPE_WEBHOOK_SECRET, TELEGRAM_WEBHOOK_SECRET,
   * TEAMS_WEBHOOK_SECRET): used for a tenant that has no secret of its own.
   */
  secrets: Readonly<Record<string, string>>;
  /** Tolerance of timestamped signatures for routes that set none (ms). */
  toleranceMs: number;
  /** Refused deliveries one source may cause on one route per minute before it gets 429. */
  rejectLimit: number;
}

export interface OutboundAllowlist {
  /** The comma-separated list, validated; empty when unset. */
  value: string;
  /** Set when the list came from the deprecated ATLAS_WEBHOOK_ALLOWLIST (a warning is logged). */
  deprecatedVariable?: 'ATLAS_WEBHOOK_ALLOWLIST';
}

export interface OAuthConfig {
  /** ATLAS_PUBLIC_URL without a trailing slash: redirect URIs are `<publicUrl>/v1/oauth/<provider>/callback`. */
  publicUrl: string;
  /** Where a finished authorization sends the browser; unset: the callback answers JSON. */
  successUrl: string | undefined;
  /** Where a failed authorization sends the browser; unset: the callback answers problem+json. */
  errorUrl: string | undefined;
}

/** ATLAS_TENANT_RUNS_IN_FLIGHT and ATLAS_TENANT_REQUEST_RATE. */
export interface TenantLimits {
  runsInFlight: number;
  /** API requests per second; 0 means no limit. */
  requestsPerSecond: number;
}
