/**
 * What the runtime needs from the rest of the engine, passed in once (no globals).
 */
import type { Knex } from 'knex';
import type { ConnectorConfig, ConnectorDefinition, ConnectorRegistry } from '../connector-sdk/index.ts';
import type { AuditSink, PlatformStore, RateLimiter, SsrfPolicy } from '../hub/index.ts';
import type { Logger } from '../log.ts';
import type { Catalogue } from '../manifest/catalogue.ts';

/** Tenant secrets, decrypted on demand. */
export interface SecretStore {
  get(tenantId: string, name: string): Promise<string | undefined>;
}

/** OAuth access tokens of a tenant's integrations (refreshed as needed). */
export interface TokenSource {
  accessToken(tenantId: string, provider: string, opts?: { forceRefresh?: boolean }): Promise<string>;
}

/** The tenant's files as an action sees them (engine/files/access.ts). */
export interface FileStore {
  forAction(tenantId: string, actor: string): import('../connector-sdk/index.ts').FileAccess;
}

export interface RuntimeDeps {
  db: Knex;
  log: Logger;
  catalogue: Catalogue;
  connectors: ConnectorRegistry;
  secrets: SecretStore;
  tokens: TokenSource;
  audit: AuditSink;
  rateLimiter: RateLimiter;
  connectorConfig(connector: ConnectorDefinition): ConnectorConfig;
  ssrf?: SsrfPolicy;
  /** Tenants' admin-only settings and platform token budgets; without it, nothing is granted. */
  platform?: PlatformStore;
  /** Tenants' files, for the `files` connector and actions that send a file by id. */
  files?: FileStore;
  /** Identifies this process in leases and heartbeats. */
  processId: string;
  /** Runs in flight per tenant, unless its settings say otherwise (`ATLAS_TENANT_RUNS_IN_FLIGHT`). */
  tenantRunsInFlight?: number;
  /** How long a run lease lasts without renewal (ms). */
  leaseMs?: number;
  /** The network under every action (dry runs pass one that refuses every call). */
  fetchImpl?: typeof fetch;
  /** Test hook: the clock and the jitter source. */
  now?: () => Date;
  random?: () => number;
}
