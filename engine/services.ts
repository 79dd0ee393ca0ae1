/**
 * Builds the engine's parts once per process, from the configuration, and hands them down:
 * the catalogue, the connector registry, the secrets store and the runtime.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { builtinConnectors } from '../connectors/index.ts';
import type { Config } from './config.ts';
import {
  type ConnectorConfig,
  type ConnectorDefinition,
  ConnectorError,
  type ConnectorRegistry,
  makeConnectorRegistry,
} from './connector-sdk/index.ts';
import { makeDbAuditSink } from './db/audit.ts';
import type { Knex } from './db/knex.ts';
import { MemoryRateLimiter, parseAllowlist } from './hub/index.ts';
import type { Logger } from './log.ts';
import { type Catalogue, formatErrors, loadCatalogue } from './manifest/index.ts';
import { makeRuntime, type RuntimeHandle, type TokenSource } from './runtime/index.ts';
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

export async function makeServices(config: Config, log: Logger, db: Knex): Promise<Services> {
  const connectors = makeConnectorRegistry(builtinConnectors);
  const catalogue = await loadValidCatalogue(config, connectors);
  const secrets = makeSecretStore(db, await loadKeyring(config, log));
  const processId = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const runtime = makeRuntime(
    {
      db,
      log,
      catalogue,
      connectors,
      secrets,
      tokens: noIntegrations,
      audit: makeDbAuditSink(db),
      rateLimiter: new MemoryRateLimiter(),
      connectorConfig: (c) => connectorConfig(c, config.env),
      ssrf: parseAllowlist(config.env.ATLAS_WEBHOOK_ALLOWLIST),
      processId,
    },
    { cronBackfill: config.env.ATLAS_CRON_BACKFILL },
  );
  return { catalogue, connectors, secrets, runtime, processId };
}

/** Until a tenant connects a provider through OAuth, its connector calls fail as auth errors. */
const noIntegrations: TokenSource = {
  async accessToken(tenantId, provider) {
    throw ConnectorError.auth(
      'not_connected',
      `tenant ${tenantId} has no ${provider} integration; connect one through /v1/oauth/${provider}/authorize`,
    );
  },
};

/**
 * A connector's settings come from the environment: `ATLAS_CONNECTOR_<ID>_BASE_URL` for its
 * base URL (how tests and private deployments point it elsewhere), and the variables it
 * declares (platform credentials such as `TELEGRAM_BOT_TOKEN`).
 */
export function connectorConfig(
  connector: ConnectorDefinition,
  env: Readonly<Record<string, string | undefined>>,
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
  const baseUrl = env[`${prefix}BASE_URL`] ?? connector.baseUrl;
  return { ...(baseUrl === undefined ? {} : { baseUrl }), settings };
}
