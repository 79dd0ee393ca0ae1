/**
 * Configuration: read once from the environment into one typed object, validated, and
 * passed down. Nothing else in the engine reads `process.env`.
 */
import { BlockList, isIP } from 'node:net';
import path from 'node:path';
import { parseAllowlist } from './hub/ssrf.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  /** PostgreSQL URL; undefined means "use the embedded PostgreSQL in `home`". */
  databaseUrl: string | undefined;
  host: string;
  port: number;
  logLevel: LogLevel;
  /** Where the embedded database, the development keys and the lock file live. */
  home: string;
  /** Directories of the manifest catalogue. */
  manifestDirs: string[];
  /** Parallel jobs per worker process. */
  workerConcurrency: number;
  /** How long a shutdown waits for running jobs before it stops anyway (ms). */
  shutdownTimeoutMs: number;
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
  /** Standard Webhooks secret (`whsec_...`) `atlas audit anchor --webhook` signs with. */
  auditAnchorSecret: string | undefined;
  /** Hosts and networks outbound calls may reach although not public (the SSRF guard's allowlist). */
  outboundAllowlist: OutboundAllowlist;
  /** File storage: the driver, its bucket and endpoint, and the default quotas. */
  files: FilesConfig;
  /** The change feed: `auto` reads a replication slot when the database allows it; its WAL limit. */
  feed: { mode: 'auto' | 'off'; maxLagBytes: number };
  /** The raw environment, for connector settings (`ATLAS_CONNECTOR_*`, provider keys). */
  env: Readonly<Record<string, string | undefined>>;
}

export interface FilesConfig {
  /** `local`: files under `<home>/files`; `s3`: an S3-compatible bucket. */
  storage: 'local' | 's3';
  /** Where the local driver keeps files. */
  localDir: string;
  s3: {
    bucket: string;
    endpoint: string | undefined;
    region: string;
    forcePathStyle: boolean;
    accessKeyId: string | undefined;
    secretAccessKey: string | undefined;
  };
  /** Default per-tenant limits; a tenant's `settings.files` overrides them. */
  maxFilesPerTenant: number;
  maxStorageBytesPerTenant: number;
  maxFileBytes: number;
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

/** A bad configuration value: printed as one sentence naming the variable. */
export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super(`${variable} ${problem}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** Every variable the engine reads, with its default: the README's table mirrors this. */
export const VARIABLES = {
  DATABASE_URL: 'unset: embedded PostgreSQL in ATLAS_HOME',
  HOST: '127.0.0.1',
  PORT: '3000',
  LOG_LEVEL: 'info',
  ATLAS_HOME: '.atlas',
  ATLAS_MANIFESTS: 'manifests',
  ATLAS_WORKER_CONCURRENCY: '64',
  ATLAS_SHUTDOWN_TIMEOUT: '10s',
  ATLAS_BODY_LIMIT: '1mb',
  ATLAS_DB_POOL_SIZE: '10',
  ATLAS_CRON_BACKFILL: '0s',
  ATLAS_JWT_SECRET: 'unset',
  ATLAS_JWKS_URL: 'unset',
  ATLAS_JWT_ISSUER: 'unset: not checked',
  ATLAS_JWT_AUDIENCE: 'unset: not checked',
  ATLAS_METRICS_TOKEN: 'unset: /metrics is open (HOST on loopback only)',
  STRIPE_WEBHOOK_SECRET: "unset: tenants' own secrets only",
  TELEGRAM_WEBHOOK_SECRET: "unset: tenants' own secrets only",
  TEAMS_WEBHOOK_SECRET: "unset: tenants' own secrets only",
  ATLAS_WEBHOOK_TOLERANCE: '5m',
  ATLAS_PLATFORM_CREDENTIALS: "unset: tenants' own credentials only",
  ATLAS_AUDIT_ANCHOR_SECRET: 'unset: anchors are posted unsigned',
  ATLAS_OUTBOUND_ALLOWLIST: 'unset: public addresses only',
  ATLAS_STORAGE: 'local',
  ATLAS_S3_BUCKET: 'atlas-files',
  ATLAS_S3_ENDPOINT: 'unset: AWS S3',
  ATLAS_S3_REGION: 'us-east-1',
  ATLAS_S3_FORCE_PATH_STYLE: 'false',
  ATLAS_S3_ACCESS_KEY_ID: 'unset: the AWS default chain',
  ATLAS_S3_SECRET_ACCESS_KEY: 'unset: the AWS default chain',
  ATLAS_MAX_FILES_PER_TENANT: '500',
  ATLAS_MAX_STORAGE_MB_PER_TENANT: '500',
  ATLAS_MAX_FILE_MB: '100',
  ATLAS_FEED: 'auto',
  ATLAS_FEED_MAX_LAG: '1024mb',
} as const;

export function loadConfig(env: Record<string, string | undefined>, cwd = process.cwd()): Config {
  const home = path.resolve(cwd, nonEmpty(env, 'ATLAS_HOME') ?? VARIABLES.ATLAS_HOME);
  const host = nonEmpty(env, 'HOST') ?? VARIABLES.HOST;
  const port = parseInteger(env, 'PORT', 3000, 0, 65535);
  return {
    databaseUrl: parseDatabaseUrl(env),
    host,
    port,
    logLevel: parseLogLevel(env),
    home,
    manifestDirs: (nonEmpty(env, 'ATLAS_MANIFESTS') ?? VARIABLES.ATLAS_MANIFESTS)
      .split(':')
      .filter(Boolean)
      .map((dir) => path.resolve(cwd, dir)),
    workerConcurrency: parseInteger(env, 'ATLAS_WORKER_CONCURRENCY', 64, 1, 1024),
    shutdownTimeoutMs: parseDurationVar(env, 'ATLAS_SHUTDOWN_TIMEOUT', 10_000),
    bodyLimitBytes: parseSize(env, 'ATLAS_BODY_LIMIT', 1024 * 1024),
    poolSize: parseInteger(env, 'ATLAS_DB_POOL_SIZE', 10, 2, 500),
    cronBackfillMs: parseDurationVar(env, 'ATLAS_CRON_BACKFILL', 0),
    auth: parseAuth(env),
    metricsToken: parseSecret(env, 'ATLAS_METRICS_TOKEN', 16),
    oauth: parseOAuth(env, host, port),
    webhooks: parseWebhooks(env),
    platformCredentials: parsePlatformCredentials(env),
    auditAnchorSecret: parseAnchorSecret(env),
    outboundAllowlist: parseOutboundAllowlist(env),
    files: parseFiles(env, home),
    feed: parseFeed(env),
    env: Object.freeze({ ...env }),
  };
}

function parseFeed(env: Record<string, string | undefined>): Config['feed'] {
  const mode = nonEmpty(env, 'ATLAS_FEED')?.toLowerCase() ?? 'auto';
  if (mode !== 'auto' && mode !== 'off')
    throw new ConfigError('ATLAS_FEED', `must be auto or off (got "${mode}")`);
  const maxLagBytes = parseSize(env, 'ATLAS_FEED_MAX_LAG', 1024 ** 3);
  if (maxLagBytes < 1024 * 1024) throw new ConfigError('ATLAS_FEED_MAX_LAG', 'must be at least 1mb');
  return { mode, maxLagBytes };
}

function nonEmpty(env: Record<string, string | undefined>, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function parseDatabaseUrl(env: Record<string, string | undefined>): string | undefined {
  const raw = nonEmpty(env, 'DATABASE_URL');
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(
      'DATABASE_URL',
      'is not a URL; expected postgres://user:password@host:5432/database',
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `must start with postgres:// (got ${url.protocol}//)`);
  }
  if (url.hostname === '' && !url.searchParams.has('host')) {
    throw new ConfigError(
      'DATABASE_URL',
      'names no host; expected postgres://user:password@host:5432/database',
    );
  }
  return raw;
}

function parseLogLevel(env: Record<string, string | undefined>): LogLevel {
  const raw = nonEmpty(env, 'LOG_LEVEL')?.toLowerCase() ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')} (got "${raw}")`);
  }
  return raw as LogLevel;
}

function parseInteger(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

const DURATION = /^(\d+)(ms|s|m|h)?$/;
const DURATION_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

function parseDurationVar(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  const match = DURATION.exec(raw);
  if (!match) throw new ConfigError(name, `must be a duration such as 500ms, 10s or 5m (got "${raw}")`);
  return Number(match[1]) * DURATION_MS[(match[2] ?? 'ms') as keyof typeof DURATION_MS];
}

const SIZE = /^(\d+)(b|kb|mb)?$/i;
const SIZE_BYTES = { b: 1, kb: 1024, mb: 1024 * 1024 } as const;

function parseSize(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  const match = SIZE.exec(raw);
  if (!match) throw new ConfigError(name, `must be a size such as 512kb or 1mb (got "${raw}")`);
  return Number(match[1]) * SIZE_BYTES[(match[2]?.toLowerCase() ?? 'b') as keyof typeof SIZE_BYTES];
}

/** HS256 keys shorter than the hash output are guessable (RFC 7518 section 3.2). */
const MIN_JWT_SECRET = 32;

function parseAuth(env: Record<string, string | undefined>): AuthConfig {
  return {
    jwtSecret: parseSecret(env, 'ATLAS_JWT_SECRET', MIN_JWT_SECRET),
    jwksUrl: parseJwksUrl(env),
    issuer: nonEmpty(env, 'ATLAS_JWT_ISSUER'),
    audience: nonEmpty(env, 'ATLAS_JWT_AUDIENCE'),
  };
}

function parseSecret(
  env: Record<string, string | undefined>,
  name: string,
  minLength: number,
): string | undefined {
  const raw = nonEmpty(env, name);
  if (raw !== undefined && raw.length < minLength) {
    throw new ConfigError(name, `must be at least ${minLength} characters long (got ${raw.length})`);
  }
  return raw;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Keys fetched over plain HTTP could be swapped in transit: HTTPS, except on loopback. */
function parseJwksUrl(env: Record<string, string | undefined>): string | undefined {
  const raw = nonEmpty(env, 'ATLAS_JWKS_URL');
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('ATLAS_JWKS_URL', `is not a URL (got "${raw}")`);
  }
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK.has(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) {
    throw new ConfigError('ATLAS_JWKS_URL', `must be an https:// URL (got ${url.protocol}//)`);
  }
  return raw;
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

/** ATLAS_OUTBOUND_ALLOWLIST, or its former name ATLAS_WEBHOOK_ALLOWLIST when it alone is set. */
function parseOutboundAllowlist(env: Record<string, string | undefined>): OutboundAllowlist {
  const current = nonEmpty(env, 'ATLAS_OUTBOUND_ALLOWLIST');
  const legacy = current === undefined ? nonEmpty(env, 'ATLAS_WEBHOOK_ALLOWLIST') : undefined;
  const name = legacy === undefined ? 'ATLAS_OUTBOUND_ALLOWLIST' : 'ATLAS_WEBHOOK_ALLOWLIST';
  const value = current ?? legacy ?? '';
  try {
    parseAllowlist(value);
  } catch (err) {
    throw new ConfigError(
      name,
      `must list host names, addresses and CIDRs separated by commas: ${(err as Error).message}`,
    );
  }
  return legacy === undefined ? { value } : { value, deprecatedVariable: 'ATLAS_WEBHOOK_ALLOWLIST' };
}

/**
 * Each provider's secret has a known shape; a value that cannot be one is a paste error
 * caught at start, not a stream of 401s. Stripe: `whsec_...`; Telegram's platform secret (each
 * tenant's secret_token is derived from it): 16-256 of A-Z a-z 0-9 _ -; Teams' security token:
 * base64 of 16+ bytes (whitespace separates rotated secrets).
 */
const WEBHOOK_SECRETS: Record<string, { shape: RegExp; expected: string }> = {
  STRIPE_WEBHOOK_SECRET: {
    shape: /^(whsec_\S+)(\s+whsec_\S+)*$/,
    expected: 'a Stripe signing secret (whsec_...)',
  },
  TELEGRAM_WEBHOOK_SECRET: {
    shape: /^([A-Za-z0-9_-]{16,256})(\s+[A-Za-z0-9_-]{16,256})*$/,
    expected: "16-256 characters of A-Z, a-z, 0-9, _ and - (each tenant's secret_token is derived from it)",
  },
  TEAMS_WEBHOOK_SECRET: {
    // 22 base64 characters hold 16 bytes: a shorter token is a key anyone could guess.
    shape: /^([A-Za-z0-9+/]{22,}={0,2})(\s+[A-Za-z0-9+/]{22,}={0,2})*$/,
    expected: 'the base64 security token Teams showed (16 bytes or more)',
  },
};

const MAX_WEBHOOK_TOLERANCE_MS = 3_600_000;

function parseAnchorSecret(env: Record<string, string | undefined>): string | undefined {
  const raw = nonEmpty(env, 'ATLAS_AUDIT_ANCHOR_SECRET');
  if (raw !== undefined && !/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/.test(raw)) {
    throw new ConfigError(
      'ATLAS_AUDIT_ANCHOR_SECRET',
      'must be a Standard Webhooks secret (whsec_ and base64)',
    );
  }
  return raw;
}

function parseWebhooks(env: Record<string, string | undefined>): WebhookConfig {
  const secrets: Record<string, string> = {};
  for (const [name, { shape, expected }] of Object.entries(WEBHOOK_SECRETS)) {
    const raw = nonEmpty(env, name);
    if (raw === undefined) continue;
    if (!shape.test(raw)) throw new ConfigError(name, `must be ${expected}`);
    secrets[name] = raw;
  }
  const toleranceMs = parseDurationVar(env, 'ATLAS_WEBHOOK_TOLERANCE', 300_000);
  if (toleranceMs < 1000 || toleranceMs > MAX_WEBHOOK_TOLERANCE_MS) {
    throw new ConfigError(
      'ATLAS_WEBHOOK_TOLERANCE',
      `must be from 1s to 1h (got "${env.ATLAS_WEBHOOK_TOLERANCE}")`,
    );
  }
  const rejectLimit = parseInteger(env, 'ATLAS_WEBHOOK_REJECT_LIMIT', 100, 1, 1_000_000);
  return { secrets: Object.freeze(secrets), toleranceMs, rejectLimit };
}

/**
 * The public base URL is what providers redirect browsers to, so it must be the address users
 * reach (behind a proxy: the proxy's). Redirect URIs carry authorization codes: HTTPS, except
 * on loopback (RFC 9700 section 2.6, and every provider refuses plain HTTP elsewhere).
 */
function parseOAuth(env: Record<string, string | undefined>, host: string, port: number): OAuthConfig {
  const fallbackHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const publicUrl = parseHttpUrl(env, 'ATLAS_PUBLIC_URL', true) ?? `http://${fallbackHost}:${port}`;
  return {
    publicUrl: publicUrl.replace(/\/+$/, ''),
    successUrl: parseHttpUrl(env, 'ATLAS_OAUTH_SUCCESS_URL', false),
    errorUrl: parseHttpUrl(env, 'ATLAS_OAUTH_ERROR_URL', false),
  };
}

function parseHttpUrl(
  env: Record<string, string | undefined>,
  name: string,
  base: boolean,
  anyHttp = false,
): string | undefined {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a URL (got "${raw}")`);
  }
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK.has(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp && !(anyHttp && url.protocol === 'http:')) {
    throw new ConfigError(
      name,
      `must be an https:// URL, or http:// on 127.0.0.1 or localhost (got ${url.protocol}//)`,
    );
  }
  if (base && (url.search !== '' || url.hash !== '')) {
    throw new ConfigError(name, `must be a base URL without a query or fragment (got "${raw}")`);
  }
  return raw;
}

/** Connectors with platform credentials an operator may offer to tenants. Stripe is never one. */
export const PLATFORM_CONNECTORS = ['msgraph', 'email', 'telegram', 'openai', 'agent'] as const;

function parsePlatformCredentials(env: Record<string, string | undefined>): ReadonlySet<string> {
  const raw = nonEmpty(env, 'ATLAS_PLATFORM_CREDENTIALS');
  if (raw === undefined) return new Set();
  const ids = raw
    .split(',')
    .map((id) => id.trim().toLowerCase())
    .filter(Boolean);
  for (const id of ids) {
    if (id === 'stripe')
      throw new ConfigError(
        'ATLAS_PLATFORM_CREDENTIALS',
        'cannot list stripe: the platform Stripe account is never offered to tenants, each uses its own STRIPE_SECRET_KEY secret',
      );
    if (!(PLATFORM_CONNECTORS as readonly string[]).includes(id))
      throw new ConfigError(
        'ATLAS_PLATFORM_CREDENTIALS',
        `must list connectors among ${PLATFORM_CONNECTORS.join(', ')} (got "${id}")`,
      );
  }
  return new Set(ids);
}

const MB = 1024 * 1024;

/** Storage is checked at start: an s3 driver without a bucket or with half its credentials stops here. */
function parseFiles(env: Record<string, string | undefined>, home: string): FilesConfig {
  const storage = nonEmpty(env, 'ATLAS_STORAGE') ?? 'local';
  if (storage !== 'local' && storage !== 's3') {
    throw new ConfigError('ATLAS_STORAGE', `must be local or s3 (got "${storage}")`);
  }
  const bucket = nonEmpty(env, 'ATLAS_S3_BUCKET') ?? VARIABLES.ATLAS_S3_BUCKET;
  if (!/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError(
      'ATLAS_S3_BUCKET',
      `must be 3-63 lowercase letters, digits, dots, dashes or underscores (got "${bucket}")`,
    );
  }
  const endpoint = parseHttpUrl(env, 'ATLAS_S3_ENDPOINT', false, true);
  const pathStyle = nonEmpty(env, 'ATLAS_S3_FORCE_PATH_STYLE') ?? 'false';
  if (pathStyle !== 'true' && pathStyle !== 'false') {
    throw new ConfigError('ATLAS_S3_FORCE_PATH_STYLE', `must be true or false (got "${pathStyle}")`);
  }
  const accessKeyId = nonEmpty(env, 'ATLAS_S3_ACCESS_KEY_ID');
  const secretAccessKey = nonEmpty(env, 'ATLAS_S3_SECRET_ACCESS_KEY');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ConfigError(
      accessKeyId === undefined ? 'ATLAS_S3_ACCESS_KEY_ID' : 'ATLAS_S3_SECRET_ACCESS_KEY',
      'must be set together with its pair (ATLAS_S3_ACCESS_KEY_ID and ATLAS_S3_SECRET_ACCESS_KEY)',
    );
  }
  return {
    storage,
    localDir: path.join(home, 'files'),
    s3: {
      bucket,
      endpoint,
      region: nonEmpty(env, 'ATLAS_S3_REGION') ?? VARIABLES.ATLAS_S3_REGION,
      forcePathStyle: pathStyle === 'true',
      accessKeyId,
      secretAccessKey,
    },
    maxFilesPerTenant: parseInteger(env, 'ATLAS_MAX_FILES_PER_TENANT', 500, 1, 10_000_000),
    maxStorageBytesPerTenant: parseInteger(env, 'ATLAS_MAX_STORAGE_MB_PER_TENANT', 500, 1, 100_000_000) * MB,
    maxFileBytes: parseInteger(env, 'ATLAS_MAX_FILE_MB', 100, 1, 5_000_000) * MB,
  };
}
