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
    // Ranges the hand-written list let through: IPv4-compatible, 6to4, NAT64 local use,
    // Teredo, and the 6to4 relay anycast.
    '::7f00:1',
    '::a9fe:a9fe',
    '::1.2.3.4',
    '2002:7f00:1::1',
    '2002:a00:1::',
    '64:ff9b:1::7f00:1',
    '64:ff9b::7f00:1',
    '2001::1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    '192.88.99.1',
    // And more that ipaddr.js classifies: documentation, benchmarking, shared and reserved space.
    '192.0.0.8',
    '192.0.2.1',
    '198.18.0.1',
    '198.51.100.7',
    '203.0.113.9',
    '240.0.0.1',
    '2001:db8::1',
    '2001:2::1',
    '100::1',
    'fec0::1',
    '3fff::1',
    '4000::1',
    'not-an-address',
  ])('blocks %s', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e'])(
    'allows %s',
    (address) => {
      expect(isBlockedAddress(address)).toBe(false);
    },
  );
});

describe('parseAllowlist', () => {
  it('reads host names, addresses, bracketed IPv6 and CIDRs', async () => {
    const policy = parseAllowlist(' Hooks.Internal. , 10.1.0.0/16,[::1], fd00::/8 ,');
    expect([...policy.hosts]).toEqual(['hooks.internal']);
    for (const url of [
      'http://10.1.200.3/',
      'http://[::1]/',
      'http://[fd00::5]/',
      'http://[::ffff:10.1.0.9]/',
    ]) {
      await expect(assertPublicUrl(new URL(url), policy)).resolves.toBeUndefined();
    }
    await expect(assertPublicUrl(new URL('http://10.2.0.1/'), policy)).rejects.toMatchObject({
      code: 'ssrf_blocked',
    });
  });

  it.each(['10.0.0.0/33', 'bad host', 'http://x.example/', '1.2.3.4/x'])('refuses "%s" naming it', (item) => {
    expect(() => parseAllowlist(`ok.example,${item}`)).toThrow(item);
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
      'http://2130706433/',
      'http://0x7f.0.0.1/',
      'http://[::]/',
      'http://[2002:7f00:1::]/',
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
