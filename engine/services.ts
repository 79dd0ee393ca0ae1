/**
 * Builds the engine's parts once per process, from the configuration, and hands them down:
 * the catalogue, the connector registry, the secrets store and the runtime.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { builtinConnectors, connectorsWithAgents } from '../connectors/index.ts';
import { CONNECTOR_PREFIX, type Config } from './config.ts';
import {
  type ConnectorConfig,
  type ConnectorDefinition,
  type ConnectorRegistry,
  makeConnectorRegistry,
} from './connector-sdk/index.ts';
import { makeDbAuditSink } from './db/audit.ts';
import type { Knex } from './db/knex.ts';
import { makePgPlatformStore } from './db/tenant-settings.ts';
import { makeFileStore } from './files/access.ts';
import { type FileService, makeFileService } from './files/service.ts';
import { parseAllowlist } from './hub/index.ts';
import { PgRateLimiter } from './hub/pg-rate-limit.ts';
import { makeKnowledgeBase } from './kb/service.ts';
import type { Logger } from './log.ts';
import { makeLiveCatalogue } from './manifest/catalogue.ts';
import { type Catalogue, type CatalogueEntry, formatErrors, loadCatalogue } from './manifest/index.ts';
import { NOTIFY_ACTOR, Notifier, warnOnTokenBudget } from './notify/index.ts';
import { MAX_LINK_TTL_MS, makeTokenSource, mintConnectLink, type OAuthDeps } from './oauth/index.ts';
import { loadPlugins, type PluginInfo } from './plugins/index.ts';
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

export type Reload =
  | { ok: true; version: string; changes: string[] }
  | { ok: false; version: string; report: string };

export interface Services {
  /** Always the newest valid catalogue: `reload()` replaces what it answers. */
  catalogue: Catalogue;
  /**
   * Reads the manifests again. A valid catalogue replaces the one in use (new runs pin its
   * versions; runs in flight keep theirs); an invalid one changes nothing and is reported.
   */
  reload(): Promise<Reload>;
  connectors: ConnectorRegistry;
  /** The connectors among them loaded from ATLAS_CONNECTORS, and where from. */
  plugins: readonly PluginInfo[];
  secrets: ReturnType<typeof makeSecretStore>;
  runtime: RuntimeHandle;
  files: FileService;
  processId: string;
  /** Sends the notification outbox as typed jobs (engine/notify); sweeps once a second. */
  notifier: Notifier;
}

export async function loadValidCatalogue(config: Config, connectors: ConnectorRegistry): Promise<Catalogue> {
  const { catalogue, errors } = await loadCatalogue({ dirs: config.manifestDirs, connectors });
  if (!catalogue) throw new CatalogueError(formatErrors(errors));
  return catalogue;
}

export interface ServiceOverrides {
  /** A catalogue built in memory instead of read from ATLAS_MANIFESTS (a reload keeps it). */
  catalogue?: Catalogue;
  /** The connectors instead of the built-in ones (with the agent connector). */
  connectors?: ConnectorDefinition[];
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
  // Plugins first: one that cannot load refuses the start before anything else is built.
  const plugins = await loadPlugins(config.connectorPlugins, {
    builtins: overrides.connectors ?? builtinConnectors,
    cwd: process.cwd(),
  });
  const connectors: ConnectorRegistry = makeConnectorRegistry([
    ...(overrides.connectors ??
      connectorsWithAgents(
        {
          agent: (id) => loaded?.agent(id)?.manifest,
          actions: {
            action: (uses) => connectors.action(uses),
            validateInput: (u, v) => connectors.validateInput(u, v),
          },
        },
        makeKnowledgeBase(db, config.kb),
      )),
    ...plugins.connectors,
  ]);
  if (config.outboundAllowlist.deprecatedVariable) {
    log.warn('ATLAS_WEBHOOK_ALLOWLIST is deprecated: rename it ATLAS_OUTBOUND_ALLOWLIST');
  }
  const live = makeLiveCatalogue(overrides.catalogue ?? (await loadValidCatalogue(config, connectors)));
  const catalogue = live.catalogue;
  loaded = catalogue;
  const keyring = await loadKeyring(config, log);
  const secrets = makeSecretStore(db, keyring);
  const files = makeFileService({ config: config.files, db, keyring, publicUrl: config.oauth.publicUrl });
  await saveCatalogueVersions(db, catalogue);
  const processId = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const oauth: OAuthDeps = {
    db,
    log,
    catalogue,
    keyring,
    env: config.env,
    publicUrl: config.oauth.publicUrl,
  };
  const runtime = makeRuntime(
    {
      db,
      log,
      catalogue,
      connectors,
      secrets,
      tokens: overrides.tokens ?? makeTokenSource(oauth),
      audit: makeDbAuditSink(db),
      // Counted in PostgreSQL: a provider's quota is shared by every worker process.
      rateLimiter: new PgRateLimiter(db),
      tenantRunsInFlight: config.tenantLimits.runsInFlight,
      connectorConfig: (c) => connectorConfig(c, config, catalogue),
      ssrf: parseAllowlist(config.outboundAllowlist.value),
      platform: warnOnTokenBudget(makePgPlatformStore(db), db),
      processId,
      files: makeFileStore(files),
      ...(overrides.fetchImpl ? { fetchImpl: overrides.fetchImpl } : {}),
    },
    { cronBackfillMs: config.cronBackfillMs, workerTimeoutMs: config.workerTimeoutMs },
  );
  const notifier = new Notifier({
    db,
    log,
    enqueue: (job, trx) => runtime.runtime.enqueueJob(job, trx),
    connectLink: (tenantId, provider, trx) =>
      mintConnectLink(oauth, { tenantId, provider, userSub: NOTIFY_ACTOR, ttlMs: MAX_LINK_TTL_MS }, trx),
  });
  notifier.start();
  const reload = async (): Promise<Reload> => {
    const before = live.current();
    if (overrides.catalogue) return { ok: true, version: before.version, changes: [] };
    const { catalogue: next, errors } = await loadCatalogue({ dirs: config.manifestDirs, connectors });
    if (!next) return { ok: false, version: before.version, report: formatErrors(errors) };
    await saveCatalogueVersions(db, next);
    live.replace(next);
    return { ok: true, version: next.version, changes: catalogueChanges(before, next) };
  };
  return {
    catalogue,
    reload,
    connectors,
    plugins: plugins.plugins,
    secrets,
    runtime,
    files,
    processId,
    notifier,
  };
}

/** `added Workflow WF-050`, `changed WebhookRoute stripe`, `removed Agent x`. */
export function catalogueChanges(before: Catalogue, after: Catalogue): string[] {
  const key = (e: CatalogueEntry) => `${e.manifest.kind} ${e.manifest.id}`;
  const old = new Map(before.entries().map((e) => [key(e), e.hash]));
  const now = new Map(after.entries().map((e) => [key(e), e.hash]));
  const changes: string[] = [];
  for (const [k, hash] of now) {
    if (!old.has(k)) changes.push(`added ${k}`);
    else if (old.get(k) !== hash) changes.push(`changed ${k}`);
  }
  for (const k of old.keys()) if (!now.has(k)) changes.push(`removed ${k}`);
  return changes;
}

/**
 * A connector's settings come from the configuration: `ATLAS_CONNECTOR_<ID>_<KEY>` for its
 * base URL (how tests and private deployments point it elsewhere) and other settings, and
 * the variables it declares. Its platform credentials (the variables of `env` auth, the
 * environment fallbacks of tenant secrets, such as `TELEGRAM_BOT_TOKEN`) are left out unless
 * the operator offers the connector's platform credentials to tenants
 * (`ATLAS_PLATFORM_CREDENTIALS`). The agent connector trusts the catalogue's
 * `model.baseUrl`s: the operator wrote them.
 */
export function connectorConfig(
  connector: ConnectorDefinition,
  config: Pick<Config, 'env' | 'connectorVariables' | 'platformCredentials'>,
  catalogue?: Catalogue,
): ConnectorConfig {
  const prefix = `${CONNECTOR_PREFIX}${connector.id.toUpperCase()}_`;
  const names = new Set([
    ...(connector.settings ?? []),
    ...(connector.auth.type === 'env' ? connector.auth.variables : []),
  ]);
  if (connector.auth.type === 'secret')
    for (const v of Object.values(connector.auth.envFallback ?? {})) names.add(v);
  const settings: Record<string, string | undefined> = {};
  for (const name of names) settings[name] = config.connectorVariables[name] ?? config.env[name];
  for (const [name, value] of Object.entries(config.connectorVariables)) {
    if (name.startsWith(prefix)) settings[name.slice(prefix.length)] = value;
  }
  if (!config.platformCredentials.has(connector.id)) {
    // After the prefixed variables too: `ATLAS_CONNECTOR_<ID>_<KEY>` cannot bring a key back.
    for (const name of platformCredentialNames(connector)) delete settings[name];
  }
  const baseUrl = config.connectorVariables[`${prefix}BASE_URL`] ?? connector.baseUrl;
  const trustedUrls =
    connector.id === 'agent' && catalogue
      ? catalogue
          .agents()
          .flatMap((a) => (a.manifest.model.baseUrl === undefined ? [] : [a.manifest.model.baseUrl]))
      : [];
  return {
    ...(baseUrl === undefined ? {} : { baseUrl }),
    settings,
    ...(trustedUrls.length === 0 ? {} : { trustedUrls }),
  };
}

/** The environment variables that hold a connector's platform credentials. */
export function platformCredentialNames(connector: ConnectorDefinition): string[] {
  if (connector.auth.type === 'env') return [...connector.auth.variables];
  if (connector.auth.type === 'secret') return Object.values(connector.auth.envFallback ?? {});
  return [];
}
