import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAuth } from '../../engine/auth/dev-secret.ts';
import { ConfigError, checkMetricsExposure, loadConfig } from '../../engine/config.ts';
import { cliEnv, runCli } from '../helpers/cli.ts';

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
