/**
 * Data features: file storage (the driver, its bucket and endpoint, the default per-tenant
 * quotas), the knowledge base's limits, and the change feed.
 */
import path from 'node:path';
import { ConfigError } from './error.ts';
import {
  type Env,
  nonEmpty,
  parseBoolean,
  parseDurationVar,
  parseHttpUrl,
  parseInteger,
  parseSize,
} from './parse.ts';

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

const MB = 1024 * 1024;

/** Storage is checked at start: an s3 driver without a bucket or with half its credentials stops here. */
export function parseFiles(env: Env, home: string): FilesConfig {
  const storage = nonEmpty(env, 'ATLAS_STORAGE') ?? 'local';
  if (storage !== 'local' && storage !== 's3') {
    throw new ConfigError('ATLAS_STORAGE', `must be local or s3 (got "${storage}")`);
  }
  const bucket = nonEmpty(env, 'ATLAS_S3_BUCKET') ?? 'atlas-files';
  if (!/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError(
      'ATLAS_S3_BUCKET',
      `must be 3-63 lowercase letters, digits, dots, dashes or underscores (got "${bucket}")`,
    );
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
      endpoint: parseHttpUrl(env, 'ATLAS_S3_ENDPOINT', false, true),
      region: nonEmpty(env, 'ATLAS_S3_REGION') ?? 'us-east-1',
      forcePathStyle: parseBoolean(env, 'ATLAS_S3_FORCE_PATH_STYLE', false),
      accessKeyId,
      secretAccessKey,
    },
    maxFilesPerTenant: parseInteger(env, 'ATLAS_MAX_FILES_PER_TENANT', 500, 1, 10_000_000),
    maxStorageBytesPerTenant: parseInteger(env, 'ATLAS_MAX_STORAGE_MB_PER_TENANT', 500, 1, 100_000_000) * MB,
    maxFileBytes: parseInteger(env, 'ATLAS_MAX_FILE_MB', 100, 1, 5_000_000) * MB,
  };
}

/** The knowledge base: its largest document and the vector cache's memory budget. */
export function parseKb(env: Env): { maxBytes: number; vectorCacheBytes: number } {
  return {
    maxBytes: parseSize(env, 'ATLAS_KB_MAX_BYTES', 10 * MB),
    vectorCacheBytes: parseSize(env, 'ATLAS_KB_VECTOR_CACHE', 256 * MB),
  };
}

/** The change feed: `auto` reads a replication slot when the database allows it; its WAL limit. */
export function parseFeed(env: Env): { mode: 'auto' | 'off'; maxLagBytes: number; retentionMs: number } {
  const mode = nonEmpty(env, 'ATLAS_FEED')?.toLowerCase() ?? 'auto';
  if (mode !== 'auto' && mode !== 'off')
    throw new ConfigError('ATLAS_FEED', `must be auto or off (got "${mode}")`);
  const maxLagBytes = parseSize(env, 'ATLAS_FEED_MAX_LAG', 1024 ** 3);
  if (maxLagBytes < MB) throw new ConfigError('ATLAS_FEED_MAX_LAG', 'must be at least 1mb');
  const retentionMs = parseDurationVar(env, 'ATLAS_FEED_RETENTION', 30 * 86_400_000);
  if (retentionMs < 60_000) throw new ConfigError('ATLAS_FEED_RETENTION', 'must be at least 1m');
  return { mode, maxLagBytes, retentionMs };
}
