/**
 * Configuration: read once from the environment into one typed object, validated, and
 * passed down. Every variable is declared in `config/variables.ts`; nothing else in Atlas
 * reads `process.env` (a test checks it): `environment()` below is the one place that does.
 */
import { BlockList, isIP } from 'node:net';
import path from 'node:path';
import { parseFeed, parseFiles, parseKb } from './config/data.ts';
import { ConfigError } from './config/error.ts';
import {
  type Env,
  nonEmpty,
  parseBoolean,
  parseDatabaseUrl,
  parseDurationVar,
  parseInteger,
  parseLogLevel,
  parseSecret,
  parseSize,
} from './config/parse.ts';
import {
  namedVariables,
  parseAnchorSecret,
  parseAuth,
  parseConnectorVariables,
  parseEncryptionKey,
  parseOAuth,
  parseOutboundAllowlist,
  parsePlatformCredentials,
  parseWebhooks,
} from './config/sections.ts';
import type { Config } from './config/types.ts';

export type { FilesConfig } from './config/data.ts';
export { ConfigError } from './config/error.ts';
export { type Env, LOG_LEVELS, type LogLevel } from './config/parse.ts';
export { PLATFORM_CONNECTORS } from './config/sections.ts';
export type {
  AuthConfig,
  Config,
  OAuthConfig,
  OutboundAllowlist,
  WebhookConfig,
} from './config/types.ts';
export { CONNECTOR_PREFIX, tableRow, VARIABLES, type Variable } from './config/variables.ts';

/** The process's environment: read here and nowhere else. */
export function environment(): Env {
  return process.env;
}

/** An environment for a child process: this one's, with `extra` on top. */
export function childEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}

export function loadConfig(env: Env, cwd = process.cwd()): Config {
  const home = path.resolve(cwd, nonEmpty(env, 'ATLAS_HOME') ?? '.atlas');
  const host = nonEmpty(env, 'HOST') ?? '127.0.0.1';
  const port = parseInteger(env, 'PORT', 3000, 0, 65535);
  return {
    databaseUrl: parseDatabaseUrl(env),
    directUrl: parseDirectUrl(env),
    host,
    port,
    logLevel: parseLogLevel(env),
    home,
    manifestDirs: (nonEmpty(env, 'ATLAS_MANIFESTS') ?? 'manifests')
      .split(':')
      .filter(Boolean)
      .map((dir) => path.resolve(cwd, dir)),
    workerConcurrency: parseInteger(env, 'ATLAS_WORKER_CONCURRENCY', 64, 1, 1024),
    tenantLimits: {
      runsInFlight: parseInteger(env, 'ATLAS_TENANT_RUNS_IN_FLIGHT', 200, 1, 1_000_000),
      requestsPerSecond: parseInteger(env, 'ATLAS_TENANT_REQUEST_RATE', 0, 0, 1_000_000),
    },
    shutdownTimeoutMs: parseDurationVar(env, 'ATLAS_SHUTDOWN_TIMEOUT', 10_000),
    workerTimeoutMs: parseDurationVar(env, 'ATLAS_WORKER_TIMEOUT', 20_000),
    bodyLimitBytes: parseSize(env, 'ATLAS_BODY_LIMIT', 1024 * 1024),
    poolSize: parseInteger(env, 'ATLAS_DB_POOL_SIZE', 10, 2, 500),
    cronBackfillMs: parseDurationVar(env, 'ATLAS_CRON_BACKFILL', 0),
    auth: parseAuth(env),
    metricsToken: parseSecret(env, 'ATLAS_METRICS_TOKEN', 16),
    oauth: parseOAuth(env, host, port),
    webhooks: parseWebhooks(env),
    platformCredentials: parsePlatformCredentials(env),
    connectorPlugins: parseConnectorPlugins(env),
    auditAnchorSecret: parseAnchorSecret(env),
    outboundAllowlist: parseOutboundAllowlist(env),
    files: parseFiles(env, home),
    feed: parseFeed(env),
    kb: parseKb(env),
    trustProxy: parseBoolean(env, 'ATLAS_TRUST_PROXY', false),
    encryptionKey: parseEncryptionKey(env),
    connectorVariables: parseConnectorVariables(env),
    env: namedVariables(env),
  };
}

/** DIRECT_URL only beside DATABASE_URL: alone it would name a database Atlas does not use. */
function parseDirectUrl(env: Env): string | undefined {
  const direct = parseDatabaseUrl(env, 'DIRECT_URL');
  if (direct !== undefined && nonEmpty(env, 'DATABASE_URL') === undefined) {
    throw new ConfigError(
      'DIRECT_URL',
      'is set without DATABASE_URL; set both, or neither for the embedded database',
    );
  }
  return direct;
}

/** ATLAS_CONNECTORS: the plugin entries, as written (paths resolve against the working directory). */
export function parseConnectorPlugins(env: Env): string[] {
  const raw = nonEmpty(env, 'ATLAS_CONNECTORS') ?? '';
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

const LOOPBACK_ADDRESSES = new BlockList();
LOOPBACK_ADDRESSES.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK_ADDRESSES.addAddress('::1', 'ipv6');

/** Whether only this machine can reach an address the API listens on. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare.toLowerCase() === 'localhost') return true;
  const family = isIP(bare);
  return family !== 0 && LOOPBACK_ADDRESSES.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * `GET /metrics` tells anyone who reaches it the routes, workflows, queue depth and volumes:
 * it may be open only while the API listens on loopback. Checked by the processes that serve HTTP.
 */
export function checkMetricsExposure(config: Config): void {
  if (config.metricsToken === undefined && !isLoopbackHost(config.host)) {
    throw new ConfigError(
      'ATLAS_METRICS_TOKEN',
      `must be set when HOST (${config.host}) is beyond loopback, or GET /metrics would be open to the network`,
    );
  }
}
