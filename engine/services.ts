/**
 * Builds the engine's parts once per process, from the configuration, and hands them down:
 * the catalogue, the connector registry, the secrets store and the runtime.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { connectorsWithAgents } from '../connectors/index.ts';
import type { Config } from './config.ts';
import {
  type ConnectorConfig,
  type ConnectorDefinition,
  type ConnectorRegistry,
  makeConnectorRegistry,
} from './connector-sdk/index.ts';
import { makeDbAuditSink } from './db/audit.ts';
import type { Knex } from './db/knex.ts';
import { makePgPlatformStore } from './db/tenant-settings.ts';
import { parseAllowlist } from './hub/index.ts';
import { PgRateLimiter } from './hub/pg-rate-limit.ts';
import { makeKnowledgeBase } from './kb/service.ts';
import type { Logger } from './log.ts';
import { type Catalogue, formatErrors, loadCatalogue } from './manifest/index.ts';
import { makeTokenSource } from './oauth/index.ts';
import { makeRuntime, type RuntimeHandle, type TokenSource } from './runtime/index.ts';
import { saveCatalogueVersions } from './runtime/trigger.ts';
import { loadKeyring } from './secrets/keys.ts';
import { makeSecretStore } from './secrets/store.ts';

/** The catalogue has errors: the engine refuses to start and prints the same report as `atlas validate`. */
export class CatalogueError extends Error {
  constructor(readonly report: string) {
    super(`the manifest catalogue is invalid:\n${report}`);
    this.name = 'CatalogueError';
  }
}

export interface Services {
  catalogue: Catalogue;
  connectors: ConnectorRegistry;
  secrets: ReturnType<typeof makeSecretStore>;
  runtime: RuntimeHandle;
  processId: string;
}

export async function loadValidCatalogue(config: Config, connectors: ConnectorRegistry): Promise<Catalogue> {
  const { catalogue, errors } = await loadCatalogue({ dirs: config.manifestDirs, connectors });
  if (!catalogue) throw new CatalogueError(formatErrors(errors));
  return catalogue;
}

export interface ServiceOverrides {
  /** OAuth access tokens from elsewhere than the engine's store (tests, embedding hosts). */
  tokens?: TokenSource;
  /** The network under every action (tests refuse anything but 127.0.0.1). */
  fetchImpl?: typeof fetch;
}

export async function makeServices(
  config: Config,
  log: Logger,
  db: Knex,
  overrides: ServiceOverrides = {},
): Promise<Services> {
  // Agents read the catalogue and the registry when a task runs; both exist by then.
  let loaded: Catalogue | undefined;
  const connectors: ConnectorRegistry = makeConnectorRegistry(
    connectorsWithAgents(
      {
        agent: (id) => loaded?.agent(id)?.manifest,
        actions: {
          action: (uses) => connectors.action(uses),
          validateInput: (u, v) => connectors.validateInput(u, v),
        },
      },
      makeKnowledgeBase(db, config.kb),
    ),
  );
  const catalogue = await loadValidCatalogue(config, connectors);
  loaded = catalogue;
  const keyring = await loadKeyring(config, log);
  const secrets = makeSecretStore(db, keyring);
  await saveCatalogueVersions(db, catalogue);
  const processId = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const runtime = makeRuntime(
    {
      db,
      log,
      catalogue,
      connectors,
      secrets,
      tokens:
        overrides.tokens ??
        makeTokenSource({ db, log, catalogue, keyring, env: config.env, publicUrl: config.oauth.publicUrl }),
      audit: makeDbAuditSink(db),
      // Counted in PostgreSQL: a provider's quota is shared by every worker process.
      rateLimiter: new PgRateLimiter(db),
      connectorConfig: (c) => connectorConfig(c, config.env, config.platformCredentials),
      ssrf: parseAllowlist(config.env.ATLAS_WEBHOOK_ALLOWLIST),
      platform: makePgPlatformStore(db),
      processId,
      ...(overrides.fetchImpl ? { fetchImpl: overrides.fetchImpl } : {}),
    },
    { cronBackfillMs: config.cronBackfillMs },
  );
  return { catalogue, connectors, secrets, runtime, processId };
}

/**
 * A connector's settings come from the environment: `ATLAS_CONNECTOR_<ID>_BASE_URL` for its
 * base URL (how tests and private deployments point it elsewhere), and the variables it
 * declares. Its platform credentials (the variables of `env` auth, the environment fallbacks
 * of tenant secrets, such as `TELEGRAM_BOT_TOKEN`) are left out unless the operator offers
 * the connector's platform credentials to tenants (`ATLAS_PLATFORM_CREDENTIALS`).
 */
export function connectorConfig(
  connector: ConnectorDefinition,
  env: Readonly<Record<string, string | undefined>>,
  offered: ReadonlySet<string> = new Set(),
): ConnectorConfig {
  const prefix = `ATLAS_CONNECTOR_${connector.id.toUpperCase()}_`;
  const names = new Set([
    ...(connector.settings ?? []),
    ...(connector.auth.type === 'env' ? connector.auth.variables : []),
  ]);
  if (connector.auth.type === 'secret')
    for (const v of Object.values(connector.auth.envFallback ?? {})) names.add(v);
  const settings: Record<string, string | undefined> = {};
  for (const name of names) settings[name] = env[name];
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith(prefix)) settings[name.slice(prefix.length)] = value;
  }
  if (!offered.has(connector.id)) {
    // After the prefixed variables too: `ATLAS_CONNECTOR_<ID>_<KEY>` cannot bring a key back.
    for (const name of platformCredentialNames(connector)) delete settings[name];
  }
  const baseUrl = env[`${prefix}BASE_URL`] ?? connector.baseUrl;
  return { ...(baseUrl === undefined ? {} : { baseUrl }), settings };
}

/** The environment variables that hold a connector's platform credentials. */
export function platformCredentialNames(connector: ConnectorDefinition): string[] {
  if (connector.auth.type === 'env') return [...connector.auth.variables];
  if (connector.auth.type === 'secret') return Object.values(connector.auth.envFallback ?? {});
  return [];
}
