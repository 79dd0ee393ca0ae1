import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAuth } from '../../engine/auth/dev-secret.ts';
import { ConfigError, checkMetricsExposure, loadConfig, tableRow, VARIABLES } from '../../engine/config.ts';
import { cliEnv, ROOT, runCli } from '../helpers/cli.ts';

describe('loadConfig', () => {
  it('has working defaults for an empty environment', () => {
    const config = loadConfig({}, '/srv/atlas');
    expect(config).toMatchObject({
      databaseUrl: undefined,
      host: '127.0.0.1',
      port: 3000,
      logLevel: 'info',
      home: '/srv/atlas/.atlas',
      manifestDirs: ['/srv/atlas/manifests'],
      workerConcurrency: 64,
      shutdownTimeoutMs: 10_000,
      bodyLimitBytes: 1024 * 1024,
    });
  });

  it('reads every variable', () => {
    const config = loadConfig(
      {
        DATABASE_URL: 'postgresql://u:p@db.internal:5433/atlas',
        HOST: '0.0.0.0',
        PORT: '8080',
        LOG_LEVEL: 'DEBUG',
        ATLAS_HOME: '/var/lib/atlas',
        ATLAS_MANIFESTS: 'manifests:/etc/atlas/manifests',
        ATLAS_WORKER_CONCURRENCY: '16',
        ATLAS_SHUTDOWN_TIMEOUT: '30s',
        ATLAS_BODY_LIMIT: '512kb',
      },
      '/srv/atlas',
    );
    expect(config).toMatchObject({
      databaseUrl: 'postgresql://u:p@db.internal:5433/atlas',
      host: '0.0.0.0',
      port: 8080,
      logLevel: 'debug',
      home: '/var/lib/atlas',
      manifestDirs: ['/srv/atlas/manifests', '/etc/atlas/manifests'],
      workerConcurrency: 16,
      shutdownTimeoutMs: 30_000,
      bodyLimitBytes: 512 * 1024,
    });
  });

  it.each([
    [
      'DATABASE_URL',
      'not a url',
      'DATABASE_URL is not a URL; expected postgres://user:password@host:5432/database',
    ],
    ['DATABASE_URL', 'mysql://x@h/db', 'DATABASE_URL must start with postgres:// (got mysql://)'],
    ['PORT', 'abc', 'PORT must be a whole number from 0 to 65535 (got "abc")'],
    ['PORT', '70000', 'PORT must be a whole number from 0 to 65535 (got "70000")'],
    [
      'LOG_LEVEL',
      'loud',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
    ],
    [
      'ATLAS_WORKER_CONCURRENCY',
      '0',
      'ATLAS_WORKER_CONCURRENCY must be a whole number from 1 to 1024 (got "0")',
    ],
    [
      'ATLAS_SHUTDOWN_TIMEOUT',
      'soon',
      'ATLAS_SHUTDOWN_TIMEOUT must be a duration such as 500ms, 10s or 5m (got "soon")',
    ],
    ['ATLAS_BODY_LIMIT', 'huge', 'ATLAS_BODY_LIMIT must be a size such as 512kb or 1mb (got "huge")'],
    [
      'ATLAS_OUTBOUND_ALLOWLIST',
      'hooks.internal,10.0.0.0/40',
      'ATLAS_OUTBOUND_ALLOWLIST must list host names, addresses and CIDRs separated by commas: "10.0.0.0/40" is not a valid CIDR',
    ],
    [
      'ATLAS_WEBHOOK_ALLOWLIST',
      'http://x',
      'ATLAS_WEBHOOK_ALLOWLIST must list host names, addresses and CIDRs separated by commas: "http://x" is neither a host name, an address nor a CIDR',
    ],
  ])('rejects %s=%j with one sentence', (variable, value, message) => {
    const attempt = () => loadConfig({ [variable]: value });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
  });

  it('reads DIRECT_URL beside DATABASE_URL, and refuses it alone or malformed', () => {
    const pooled = 'postgres://u:p@pooler.internal:6432/atlas';
    const direct = 'postgres://u:p@db.internal:5432/atlas';
    expect(loadConfig({ DATABASE_URL: pooled })).toMatchObject({ databaseUrl: pooled, directUrl: undefined });
    expect(loadConfig({ DATABASE_URL: pooled, DIRECT_URL: direct })).toMatchObject({
      databaseUrl: pooled,
      directUrl: direct,
    });
    expect(() => loadConfig({ DIRECT_URL: direct })).toThrow(
      'DIRECT_URL is set without DATABASE_URL; set both, or neither for the embedded database',
    );
    expect(() => loadConfig({ DATABASE_URL: pooled, DIRECT_URL: 'mysql://x@h/db' })).toThrow(
      'DIRECT_URL must start with postgres:// (got mysql://)',
    );
  });

  it('reads the outbound allowlist, and its former name with a deprecation mark', () => {
    expect(loadConfig({}).outboundAllowlist).toEqual({ value: '' });
    expect(loadConfig({ ATLAS_OUTBOUND_ALLOWLIST: '10.0.0.0/8' }).outboundAllowlist).toEqual({
      value: '10.0.0.0/8',
    });
    expect(loadConfig({ ATLAS_WEBHOOK_ALLOWLIST: '127.0.0.1' }).outboundAllowlist).toEqual({
      value: '127.0.0.1',
      deprecatedVariable: 'ATLAS_WEBHOOK_ALLOWLIST',
    });
    // The new name wins when both are set.
    expect(
      loadConfig({ ATLAS_OUTBOUND_ALLOWLIST: '::1', ATLAS_WEBHOOK_ALLOWLIST: '127.0.0.1' }).outboundAllowlist,
    ).toEqual({ value: '::1' });
  });
});

describe('the declared configuration', () => {
  it.each([
    ['ATLAS_TRUST_PROXY', 'yes', 'ATLAS_TRUST_PROXY must be true or false (got "yes")'],
    ['ATLAS_TRUST_PROXY', '1', 'ATLAS_TRUST_PROXY must be true or false (got "1")'],
    ['ATLAS_ENCRYPTION_KEY', 'c2hvcnQ=', 'ATLAS_ENCRYPTION_KEY must be 32 bytes, base64 encoded'],
    [
      'ATLAS_CONNECTOR_STRIPE_BASE_URL',
      'api.stripe.com',
      'ATLAS_CONNECTOR_STRIPE_BASE_URL must be an http:// or https:// URL (got "api.stripe.com")',
    ],
  ])('refuses %s=%j at start with one sentence', (variable, value, message) => {
    const attempt = () => loadConfig({ [variable]: value });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
  });

  it('reads the proxy switch, the encryption key and connector settings typed', () => {
    const key = Buffer.alloc(32, 1).toString('base64');
    const config = loadConfig({
      ATLAS_TRUST_PROXY: 'true',
      ATLAS_ENCRYPTION_KEY: key,
      ATLAS_CONNECTOR_STRIPE_BASE_URL: 'http://127.0.0.1:9/stripe',
      TELEGRAM_BOT_TOKEN: '123:abc',
    });
    expect(config.trustProxy).toBe(true);
    expect(loadConfig({ ATLAS_TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(config.encryptionKey).toBe(key);
    expect(config.connectorVariables).toEqual({
      ATLAS_CONNECTOR_STRIPE_BASE_URL: 'http://127.0.0.1:9/stripe',
    });
    // Named variables (platform keys) are passed on; declared ones only typed, never raw.
    expect(config.env.TELEGRAM_BOT_TOKEN).toBe('123:abc');
    expect(config.env.ATLAS_ENCRYPTION_KEY).toBeUndefined();
    expect(config.env.ATLAS_TRUST_PROXY).toBeUndefined();
  });

  it("matches the README's configuration table, row for row", async () => {
    const readme = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Configuration\n'), readme.indexOf('\n## Commands\n'));
    const rows = section.split('\n').filter((line) => line.startsWith('| `'));
    expect(rows).toEqual(VARIABLES.map(tableRow));
  });

  it('leaves reading the environment to engine/config.ts', async () => {
    const READS = new RegExp(`${'process'}\\.env\\b`);
    const offenders: string[] = [];
    // bin/atlas.js is exempt: it picks the compiled or the source CLI before any TypeScript loads.
    for (const dir of ['engine', 'connectors', 'bench', 'test']) {
      for (const file of await fs.readdir(path.join(ROOT, dir), { recursive: true })) {
        if (!/\.(ts|js|mjs)$/.test(file)) continue;
        const relative = path.join(dir, file);
        if (relative === path.join('engine', 'config.ts')) continue;
        const text = await fs.readFile(path.join(ROOT, relative), 'utf8');
        text.split('\n').forEach((line, i) => {
          // Test helpers that launch a process may build its environment.
          const childEnvironment = /\{\s*\.\.\.process\.env\b/.test(line) && relative.startsWith('test/');
          if (READS.test(line) && !childEnvironment) offenders.push(`${relative}:${i + 1}`);
        });
      }
    }
    expect(offenders).toEqual([]);
  });
});

describe('API configuration', () => {
  it('has no token settings by default and an open /metrics', () => {
    const config = loadConfig({}, '/srv/atlas');
    expect(config.auth).toEqual({
      jwtSecret: undefined,
      jwksUrl: undefined,
      issuer: undefined,
      audience: undefined,
    });
    expect(config.metricsToken).toBeUndefined();
  });

  it('reads every API variable', () => {
    const config = loadConfig({
      ATLAS_JWT_SECRET: 's'.repeat(32),
      ATLAS_JWKS_URL: 'https://id.example.com/.well-known/jwks.json',
      ATLAS_JWT_ISSUER: 'https://id.example.com/',
      ATLAS_JWT_AUDIENCE: 'atlas',
      ATLAS_METRICS_TOKEN: 'm'.repeat(16),
    });
    expect(config.auth).toEqual({
      jwtSecret: 's'.repeat(32),
      jwksUrl: 'https://id.example.com/.well-known/jwks.json',
      issuer: 'https://id.example.com/',
      audience: 'atlas',
    });
    expect(config.metricsToken).toBe('m'.repeat(16));
    expect(loadConfig({ ATLAS_JWKS_URL: 'http://127.0.0.1:8080/jwks' }).auth.jwksUrl).toBe(
      'http://127.0.0.1:8080/jwks',
    );
  });

  it.each([
    ['ATLAS_JWT_SECRET', 'short', 'ATLAS_JWT_SECRET must be at least 32 characters long (got 5)'],
    ['ATLAS_JWKS_URL', 'keys', 'ATLAS_JWKS_URL is not a URL (got "keys")'],
    ['ATLAS_JWKS_URL', 'http://id.example.com/jwks', 'ATLAS_JWKS_URL must be an https:// URL (got http://)'],
    ['ATLAS_METRICS_TOKEN', 'abc', 'ATLAS_METRICS_TOKEN must be at least 16 characters long (got 3)'],
  ])('rejects %s=%j with one sentence', (variable, value, message) => {
    const attempt = () => loadConfig({ [variable]: value });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
  });
});

describe('GET /metrics beyond loopback', () => {
  it.each(['127.0.0.1', '127.3.2.1', '::1', 'localhost'])('may stay open on HOST=%s', (host) => {
    expect(() => checkMetricsExposure(loadConfig({ HOST: host }))).not.toThrow();
  });

  it.each(['0.0.0.0', '::', '10.0.0.5', '192.168.1.20', 'atlas.internal'])(
    'needs ATLAS_METRICS_TOKEN on HOST=%s',
    (host) => {
      const attempt = () => checkMetricsExposure(loadConfig({ HOST: host }));
      expect(attempt).toThrow(ConfigError);
      expect(attempt).toThrow(
        `ATLAS_METRICS_TOKEN must be set when HOST (${host}) is beyond loopback, or GET /metrics would be open to the network`,
      );
      const guarded = loadConfig({ HOST: host, ATLAS_METRICS_TOKEN: 'm'.repeat(16) });
      expect(() => checkMetricsExposure(guarded)).not.toThrow();
    },
  );

  it('atlas serve refuses to start with one sentence, before it opens anything', async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-metrics-'));
    try {
      const res = await runCli(['serve'], cliEnv({ HOST: '0.0.0.0', PORT: '0', ATLAS_HOME: home }));
      expect(res.code).toBe(1);
      expect(res.stderr.trim()).toBe(
        'atlas serve: ATLAS_METRICS_TOKEN must be set when HOST (0.0.0.0) is beyond loopback, or GET /metrics would be open to the network',
      );
      expect(await fs.readdir(home)).toEqual([]);
    } finally {
      await fs.rm(home, { recursive: true, force: true });
    }
  });
});

describe('the development token secret', () => {
  it('is made once in ATLAS_HOME on the embedded database, and reused', async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-auth-'));
    try {
      const config = loadConfig({ ATLAS_HOME: home });
      const first = await resolveAuth(config);
      const second = await resolveAuth(config);
      expect(first.auth.jwtSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(second.auth.jwtSecret).toBe(first.auth.jwtSecret);
      expect(first.devSecretFile).toBe(path.join(home, 'jwt-secret'));
      expect((await fs.stat(path.join(home, 'jwt-secret'))).mode & 0o777).toBe(0o600);
    } finally {
      await fs.rm(home, { recursive: true, force: true });
    }
  });

  it('is never invented for a real deployment or when tokens are configured', async () => {
    const external = loadConfig({ DATABASE_URL: 'postgres://u@db.internal/atlas' });
    expect(await resolveAuth(external)).toEqual({ auth: external.auth, devSecretFile: undefined });
    const configured = loadConfig({ ATLAS_JWKS_URL: 'https://id.example.com/jwks' });
    expect((await resolveAuth(configured)).auth.jwtSecret).toBeUndefined();
  });
});

const MB = 1024 * 1024;

describe('file storage configuration', () => {
  it('defaults to the local driver under ATLAS_HOME with the design quotas', () => {
    expect(loadConfig({}, '/srv/atlas').files).toEqual({
      storage: 'local',
      localDir: '/srv/atlas/.atlas/files',
      s3: {
        bucket: 'atlas-files',
        endpoint: undefined,
        region: 'us-east-1',
        forcePathStyle: false,
        accessKeyId: undefined,
        secretAccessKey: undefined,
      },
      maxFilesPerTenant: 500,
      maxStorageBytesPerTenant: 500 * MB,
      maxFileBytes: 100 * MB,
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      ATLAS_STORAGE: 's3',
      ATLAS_S3_BUCKET: 'kb_uploads',
      ATLAS_S3_ENDPOINT: 'https://project.supabase.co/storage/v1/s3',
      ATLAS_S3_REGION: 'eu-central-1',
      ATLAS_S3_FORCE_PATH_STYLE: 'true',
      ATLAS_S3_ACCESS_KEY_ID: 'AKID',
      ATLAS_S3_SECRET_ACCESS_KEY: 'secret',
      ATLAS_MAX_FILES_PER_TENANT: '50',
      ATLAS_MAX_STORAGE_MB_PER_TENANT: '2048',
      ATLAS_MAX_FILE_MB: '25',
    });
    expect(config.files).toMatchObject({
      storage: 's3',
      s3: {
        bucket: 'kb_uploads',
        endpoint: 'https://project.supabase.co/storage/v1/s3',
        region: 'eu-central-1',
        forcePathStyle: true,
        accessKeyId: 'AKID',
        secretAccessKey: 'secret',
      },
      maxFilesPerTenant: 50,
      maxStorageBytesPerTenant: 2048 * MB,
      maxFileBytes: 25 * MB,
    });
  });

  it.each([
    ['ATLAS_STORAGE', 'ftp', 'ATLAS_STORAGE must be local or s3 (got "ftp")'],
    ['ATLAS_S3_BUCKET', 'Bad Bucket', 'ATLAS_S3_BUCKET must be 3-63 lowercase letters'],
    ['ATLAS_S3_ENDPOINT', 'minio:9000', 'ATLAS_S3_ENDPOINT'],
    ['ATLAS_S3_FORCE_PATH_STYLE', 'yes', 'ATLAS_S3_FORCE_PATH_STYLE must be true or false (got "yes")'],
    ['ATLAS_S3_ACCESS_KEY_ID', 'AKID', 'ATLAS_S3_SECRET_ACCESS_KEY must be set together with its pair'],
    ['ATLAS_MAX_FILES_PER_TENANT', '0', 'ATLAS_MAX_FILES_PER_TENANT must be a whole number from 1'],
    ['ATLAS_MAX_FILE_MB', '1.5', 'ATLAS_MAX_FILE_MB must be a whole number from 1'],
  ])('rejects %s=%j with one sentence', (variable, value, message) => {
    const attempt = () => loadConfig({ [variable]: value });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
  });
});

describe('OAuth configuration', () => {
  it('defaults the public URL to the listening address, without a trailing slash', () => {
    expect(loadConfig({ PORT: '4000' }).oauth).toEqual({
      publicUrl: 'http://127.0.0.1:4000',
      successUrl: undefined,
      errorUrl: undefined,
    });
    expect(loadConfig({ HOST: '0.0.0.0' }).oauth.publicUrl).toBe('http://127.0.0.1:3000');
    expect(loadConfig({ ATLAS_PUBLIC_URL: 'https://atlas.example.com/base/' }).oauth.publicUrl).toBe(
      'https://atlas.example.com/base',
    );
  });

  it.each([
    ['ATLAS_PUBLIC_URL', 'atlas.example.com', /is not a URL/],
    ['ATLAS_PUBLIC_URL', 'http://atlas.example.com', /must be an https:\/\/ URL/],
    ['ATLAS_PUBLIC_URL', 'https://atlas.example.com/?x=1', /without a query/],
    ['ATLAS_OAUTH_SUCCESS_URL', 'ftp://example.com/done', /must be an https:\/\/ URL/],
    ['ATLAS_OAUTH_ERROR_URL', 'not a url', /is not a URL/],
  ])('refuses %s=%s', (name, value, message) => {
    const attempt = () => loadConfig({ [name]: value });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
  });

  it('accepts https anywhere and http on loopback', () => {
    const config = loadConfig({
      ATLAS_PUBLIC_URL: 'http://localhost:3000',
      ATLAS_OAUTH_SUCCESS_URL: 'https://app.example.com/connected',
      ATLAS_OAUTH_ERROR_URL: 'http://127.0.0.1:5173/failed',
    });
    expect(config.oauth.successUrl).toBe('https://app.example.com/connected');
    expect(config.oauth.errorUrl).toBe('http://127.0.0.1:5173/failed');
  });
});
