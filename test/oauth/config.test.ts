import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../engine/config.ts';

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
