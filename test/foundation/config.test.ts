import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, tableRow, VARIABLES } from '../../engine/config.ts';
import { ROOT } from '../helpers/cli.ts';

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
