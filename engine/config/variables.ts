/**
 * Every environment variable Atlas reads, declared once: name, type, default and description.
 * The README's configuration table shows exactly these rows (a test compares them), and
 * `loadConfig` refuses a value that does not fit its declaration.
 */

export type VariableType =
  | 'boolean'
  | 'duration'
  | 'enum'
  | 'integer'
  | 'list'
  | 'path'
  | 'paths'
  | 'pattern'
  | 'secret'
  | 'size'
  | 'string'
  | 'url';

export interface Variable {
  /** The variable, or for `pattern` a family of them (`ATLAS_CONNECTOR_<ID>_<KEY>`). */
  name: string;
  type: VariableType;
  /** What applies when it is unset, as the README shows it. */
  default: string;
  /** One line for the README's table (Markdown). */
  description: string;
  /** Former names still read, with a warning. */
  aliases?: readonly string[];
}

export const VARIABLES: readonly Variable[] = [
  {
    name: 'DATABASE_URL',
    type: 'url',
    default: 'unset: embedded PostgreSQL in `ATLAS_HOME`',
    description:
      'any PostgreSQL 13+, directly or through a transaction-mode pooler (PgBouncer); with it, Atlas starts no database of its own',
  },
  {
    name: 'DIRECT_URL',
    type: 'url',
    default: '`DATABASE_URL`',
    description:
      "a direct connection to the same database, for what needs a session: migrations, the queue's wake-ups, cancellations, the change feed; set it when `DATABASE_URL` goes through a pooler",
  },
  {
    name: 'HOST',
    type: 'string',
    default: '`127.0.0.1`',
    description: 'address the HTTP API listens on',
  },
  {
    name: 'PORT',
    type: 'integer',
    default: '`3000`',
    description: 'port of the HTTP API (`0` picks a free one)',
  },
  {
    name: 'LOG_LEVEL',
    type: 'enum',
    default: '`info`',
    description: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`',
  },
  {
    name: 'ATLAS_HOME',
    type: 'path',
    default: '`.atlas`',
    description: 'the embedded database, development keys and the lock file',
  },
  {
    name: 'ATLAS_ENCRYPTION_KEY',
    type: 'secret',
    default: 'unset: a key generated once in `ATLAS_HOME`',
    description:
      '32 bytes in base64, or `id:key,id:key` to rotate (the first encrypts, all decrypt): tenant secrets and OAuth tokens are encrypted with it; set it to share one key between machines',
  },
  {
    name: 'ATLAS_MANIFESTS',
    type: 'paths',
    default: '`manifests`',
    description: '`:`-separated manifest directories (the catalogue)',
  },
  {
    name: 'ATLAS_WORKER_CONCURRENCY',
    type: 'integer',
    default: '`64`',
    description:
      'jobs one worker process runs at once (steps wait on I/O, so this is high; see [Running workflows](#running-workflows))',
  },
  {
    name: 'ATLAS_TENANT_RUNS_IN_FLIGHT',
    type: 'integer',
    default: '`200`',
    description:
      "runs of one tenant queued or running at once; the rest wait, queued, for a slot (a tenant's `limits.runsInFlight` setting overrides it; see [Fairness between tenants](#fairness-between-tenants))",
  },
  {
    name: 'ATLAS_TENANT_REQUEST_RATE',
    type: 'integer',
    default: '`0`: no limit',
    description:
      "API requests one tenant may make per second, over all processes, before it gets 429 (a tenant's `limits.requestsPerSecond` setting overrides it)",
  },
  {
    name: 'ATLAS_SHUTDOWN_TIMEOUT',
    type: 'duration',
    default: '`10s`',
    description: 'how long a shutdown waits for running jobs',
  },
  {
    name: 'ATLAS_WORKER_TIMEOUT',
    type: 'duration',
    default: '`20s`',
    description:
      'how long a worker may miss its heartbeats (sent every quarter of this) before the others release its jobs and run leases ([Reliability under faults](#reliability-under-faults))',
  },
  {
    name: 'ATLAS_BODY_LIMIT',
    type: 'size',
    default: '`1mb`',
    description: 'largest accepted JSON request body',
  },
  {
    name: 'ATLAS_DB_POOL_SIZE',
    type: 'integer',
    default: '`10`',
    description:
      "database connections per process for the engine's own queries (the queue's pool may open up to `ATLAS_WORKER_CONCURRENCY`, few in practice: it claims and completes jobs in batches)",
  },
  {
    name: 'ATLAS_CRON_BACKFILL',
    type: 'duration',
    default: '`0s`',
    description: 'how far back a starting worker fires schedule times missed while none ran (e.g. `1h`)',
  },
  {
    name: 'ATLAS_TRUST_PROXY',
    type: 'boolean',
    default: 'unset',
    description: '`true` behind a reverse proxy: client addresses from `X-Forwarded-*`',
  },
  {
    name: 'ATLAS_OUTBOUND_ALLOWLIST',
    aliases: ['ATLAS_WEBHOOK_ALLOWLIST'],
    type: 'list',
    default: 'unset: public addresses only',
    description:
      'comma-separated host names, addresses and CIDRs (`hooks.internal,10.1.0.0/16,::1`) that connectors may reach although not public ([SSRF guard](#outbound-calls-and-the-ssrf-guard)); the former name `ATLAS_WEBHOOK_ALLOWLIST` still works, with a warning',
  },
  {
    name: 'STRIPE_WEBHOOK_SECRET',
    type: 'secret',
    default: "unset: tenants' own secrets only",
    description:
      "the platform's Stripe signing secret (`whsec_...`), for routes that fix the tenant or read it from the signed body ([Inbound webhooks](#inbound-webhooks))",
  },
  {
    name: 'TELEGRAM_WEBHOOK_SECRET',
    type: 'secret',
    default: "unset: tenants' own secrets only",
    description: "16-256 of `A-Z a-z 0-9 _ -`: each tenant's Telegram `secret_token` is derived from it",
  },
  {
    name: 'TEAMS_WEBHOOK_SECRET',
    type: 'secret',
    default: "unset: tenants' own secrets only",
    description:
      "the platform's Teams outgoing-webhook security token (base64 of 16+ bytes), for routes that fix the tenant",
  },
  {
    name: 'ATLAS_PLATFORM_CREDENTIALS',
    type: 'list',
    default: "unset: tenants' own credentials only",
    description:
      'connectors whose platform keys tenants without their own may use, comma separated: `msgraph`, `email`, `telegram`, `openai`, `agent` (never `stripe`; see [Platform credentials](#platform-credentials))',
  },
  {
    name: 'ATLAS_CONNECTORS',
    type: 'list',
    default: 'unset: the built-in connectors only',
    description:
      'connector plugins to load at start, comma separated: npm package names or paths (see [Connector plugins](#connector-plugins))',
  },
  {
    name: 'ATLAS_WEBHOOK_REJECT_LIMIT',
    type: 'integer',
    default: '`100`',
    description:
      'refused webhook deliveries one address may cause on one route per minute before it gets 429',
  },
  {
    name: 'ATLAS_WEBHOOK_TOLERANCE',
    type: 'duration',
    default: '`5m`',
    description:
      'largest clock difference of signed webhook timestamps, for routes that set no `verify.tolerance` (1s to 1h)',
  },
  {
    name: 'ATLAS_JWT_SECRET',
    type: 'secret',
    default: 'unset',
    description:
      'HS256 secret (32+ characters) API tokens are signed with; on the embedded database without it or `ATLAS_JWKS_URL`, a development secret in `ATLAS_HOME`',
  },
  {
    name: 'ATLAS_JWKS_URL',
    type: 'url',
    default: 'unset',
    description:
      "your identity provider's JWKS (https, or http on loopback): RS256 and ES256 tokens verified with its keys",
  },
  {
    name: 'ATLAS_JWT_ISSUER',
    type: 'string',
    default: 'unset: not checked',
    description: 'the `iss` every token must carry',
  },
  {
    name: 'ATLAS_JWT_AUDIENCE',
    type: 'string',
    default: 'unset: not checked',
    description: 'the `aud` every token must carry',
  },
  {
    name: 'ATLAS_METRICS_TOKEN',
    type: 'secret',
    default: 'unset: `/metrics` is open (loopback `HOST` only)',
    description:
      'bearer token (16+ characters) `GET /metrics` requires; required when `HOST` is beyond loopback (`0.0.0.0`, a LAN address): `atlas serve` refuses to start without it',
  },
  {
    name: 'ATLAS_PUBLIC_URL',
    type: 'url',
    default: '`http://HOST:PORT`',
    description:
      'the address browsers reach Atlas at (https, or http on loopback); OAuth redirect URIs are `<ATLAS_PUBLIC_URL>/v1/oauth/<provider>/callback`, connect links `<ATLAS_PUBLIC_URL>/v1/connect/<token>`',
  },
  {
    name: 'ATLAS_OAUTH_SUCCESS_URL',
    type: 'url',
    default: 'unset: the callback answers JSON',
    description: 'where a connected account sends the browser, with `?provider=&integration=`',
  },
  {
    name: 'ATLAS_OAUTH_ERROR_URL',
    type: 'url',
    default: 'unset: the callback answers problem+json',
    description:
      'where a failed authorization sends the browser, with `?provider=&error=&error_description=`',
  },
  {
    name: 'ATLAS_AUDIT_ANCHOR_SECRET',
    type: 'secret',
    default: 'unset: anchors are posted unsigned',
    description:
      'Standard Webhooks secret (`whsec_...`) `atlas audit anchor --webhook` signs with ([Audit](#audit))',
  },
  {
    name: 'ATLAS_STORAGE',
    type: 'enum',
    default: '`local`',
    description:
      'where [files](#files) live: `local` (under `ATLAS_HOME/files`) or `s3` (any S3-compatible service)',
  },
  {
    name: 'ATLAS_S3_BUCKET',
    type: 'string',
    default: '`atlas-files`',
    description:
      'the bucket (underscores allowed where the service accepts them, e.g. `kb_uploads` on Supabase)',
  },
  {
    name: 'ATLAS_S3_ENDPOINT',
    type: 'url',
    default: 'unset: AWS S3',
    description: "the service's URL (MinIO, R2, `https://<project>.supabase.co/storage/v1/s3`)",
  },
  {
    name: 'ATLAS_S3_REGION',
    type: 'string',
    default: '`us-east-1`',
    description: "the bucket's region",
  },
  {
    name: 'ATLAS_S3_FORCE_PATH_STYLE',
    type: 'boolean',
    default: '`false`',
    description: '`true` for services without virtual-host buckets (MinIO, Supabase)',
  },
  {
    name: 'ATLAS_S3_ACCESS_KEY_ID',
    type: 'secret',
    default: 'unset: the AWS default chain',
    description:
      'the storage access key id, with `ATLAS_S3_SECRET_ACCESS_KEY` (both or neither); never sent to a client',
  },
  {
    name: 'ATLAS_S3_SECRET_ACCESS_KEY',
    type: 'secret',
    default: 'unset: the AWS default chain',
    description: 'the storage secret key, with `ATLAS_S3_ACCESS_KEY_ID`',
  },
  {
    name: 'ATLAS_MAX_FILES_PER_TENANT',
    type: 'integer',
    default: '`500`',
    description: 'files a tenant may keep',
  },
  {
    name: 'ATLAS_MAX_STORAGE_MB_PER_TENANT',
    type: 'integer',
    default: '`500`',
    description: "megabytes a tenant's files may take together",
  },
  {
    name: 'ATLAS_MAX_FILE_MB',
    type: 'integer',
    default: '`100`',
    description: 'largest single file',
  },
  {
    name: 'ATLAS_KB_MAX_BYTES',
    type: 'size',
    default: '`10mb`',
    description: 'largest document the knowledge base ingests (text, upload or URL)',
  },
  {
    name: 'ATLAS_KB_VECTOR_CACHE',
    type: 'size',
    default: '`256mb`',
    description:
      'memory the exact vector search may hold per process; tenants beyond it are searched in SQL ([Knowledge base](#knowledge-base))',
  },
  {
    name: 'ATLAS_FEED',
    type: 'enum',
    default: '`auto`',
    description:
      '`auto`: the [change feed](#change-feed) reads a replication slot when the database allows it (a warning says why not otherwise); `off`: no slot',
  },
  {
    name: 'ATLAS_FEED_MAX_LAG',
    type: 'size',
    default: '`1024mb`',
    description:
      "WAL the feed's replication slot may keep before it is dropped and a `feed.gap` reported (1mb or more)",
  },
  {
    name: 'ATLAS_FEED_RETENTION',
    type: 'duration',
    default: '`30d`',
    description: 'how long `feed_events` are kept; older ones are pruned hourly (1m or more)',
  },
  {
    name: 'ATLAS_FROM_SOURCE',
    type: 'boolean',
    default: 'unset: the compiled CLI when it is current',
    description:
      '`1` runs `atlas` from the TypeScript sources, never from `dist/` (read by `bin/atlas.js` before the engine loads)',
  },
  {
    name: 'ATLAS_CONNECTOR_<ID>_<KEY>',
    type: 'pattern',
    default: "the connector's",
    description:
      "a connector's settings: its base URL (`ATLAS_CONNECTOR_STRIPE_BASE_URL`, http or https) and the others it reads ([Connectors](#connectors))",
  },
  {
    name: '<PLATFORM_KEY>',
    type: 'pattern',
    default: 'unset',
    description:
      'variables named by a connector (`TELEGRAM_BOT_TOKEN`, `OPENAI_API_KEY`, `MS_CLIENT_SECRET`, ...), an OAuth provider manifest (its client id and secret) or a webhook route (its platform secret): read only by what names them ([Platform credentials](#platform-credentials))',
  },
];

/** The prefix of connector settings: `ATLAS_CONNECTOR_<ID>_<KEY>`. */
export const CONNECTOR_PREFIX = 'ATLAS_CONNECTOR_';

/** The names of the declared variables (patterns excluded), aliases included. */
export const DECLARED_NAMES: ReadonlySet<string> = new Set(
  VARIABLES.filter((v) => v.type !== 'pattern').flatMap((v) => [v.name, ...(v.aliases ?? [])]),
);

/** A variable's row in the README's configuration table. */
export function tableRow(variable: Variable): string {
  return `| \`${variable.name}\` | ${variable.default} | ${variable.description} |`;
}
