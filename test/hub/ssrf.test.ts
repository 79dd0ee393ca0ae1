import { describe, expect, it } from 'vitest';
import { assertPublicUrl, isBlockedAddress, parseAllowlist } from '../../engine/hub/ssrf.ts';

describe('isBlockedAddress', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:8.8.8.8',
  ])('blocks %s', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111'])('allows %s', (address) => {
    expect(isBlockedAddress(address)).toBe(false);
  });
});

describe('assertPublicUrl', () => {
  const resolveTo = (addresses: string[]) => async () => addresses;

  it('refuses a host that resolves to a private address (checked after DNS)', async () => {
    const policy = { ...parseAllowlist(''), resolve: resolveTo(['93.184.216.34', '10.0.0.5']) };
    await expect(assertPublicUrl(new URL('https://hooks.example.com/x'), policy)).rejects.toMatchObject({
      code: 'ssrf_blocked',
      kind: 'fatal',
    });
  });

  it('accepts a public host', async () => {
    const policy = { ...parseAllowlist(''), resolve: resolveTo(['93.184.216.34']) };
    await expect(assertPublicUrl(new URL('https://hooks.example.com/x'), policy)).resolves.toBeUndefined();
  });

  it('refuses literal private addresses, IPv6 brackets included, and odd schemes', async () => {
    const policy = parseAllowlist('');
    for (const url of [
      'http://127.0.0.1/',
      'http://[::1]:8080/',
      'http://[::ffff:7f00:1]/',
      'file:///etc/passwd',
    ]) {
      await expect(assertPublicUrl(new URL(url), policy)).rejects.toMatchObject({ code: 'ssrf_blocked' });
    }
  });

  it('honours allow-listed hosts and CIDRs', async () => {
    const policy = {
      ...parseAllowlist('hooks.internal, 10.1.0.0/16, 127.0.0.1'),
      resolve: resolveTo(['10.9.9.9']),
    };
    await expect(assertPublicUrl(new URL('http://hooks.internal/'), policy)).resolves.toBeUndefined();
    await expect(assertPublicUrl(new URL('http://10.1.2.3/'), policy)).resolves.toBeUndefined();
    await expect(assertPublicUrl(new URL('http://127.0.0.1:9/'), policy)).resolves.toBeUndefined();
    await expect(assertPublicUrl(new URL('http://other.internal/'), policy)).rejects.toMatchObject({
      code: 'ssrf_blocked',
    });
  });

  it('treats a DNS failure as retryable', async () => {
    const policy = {
      ...parseAllowlist(''),
      resolve: async () => {
        throw new Error('ENOTFOUND');
      },
    };
    await expect(assertPublicUrl(new URL('https://nowhere.example/'), policy)).rejects.toMatchObject({
      code: 'dns_failed',
      kind: 'retryable',
    });
  });
});
