/**
 * SSRF guard for URLs a tenant controls (outbound webhooks, the generic HTTP connector).
 *
 * A target is refused when any address its host resolves to is private, loopback,
 * link-local, unique-local, multicast, unspecified, reserved or an IPv4-mapped IPv6 address
 * (which would otherwise smuggle 127.0.0.1 as ::ffff:7f00:1), unless the host or the address
 * is allow-listed (`ATLAS_WEBHOOK_ALLOWLIST`: host names and CIDRs, comma separated).
 *
 * Redirects: guarded calls use `redirect: 'manual'`, so a public host cannot bounce the
 * request to an internal one; a 3xx is a failed delivery.
 *
 * Residual risk, stated: fetch resolves the name again after this check (DNS rebinding with
 * a very short TTL). Closing that needs the connection pinned to the checked address (an
 * undici dispatcher with a `connect.lookup`), which the engine can add without changing this
 * interface.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { ConnectorError } from '../connector-sdk/index.ts';

export interface SsrfPolicy {
  /** Host names (exact, lower case) that may be reached whatever they resolve to. */
  hosts: Set<string>;
  /** Address ranges that may be reached. */
  allow: BlockList;
  /** Resolves a host name; injectable for tests. */
  resolve?: (host: string) => Promise<string[]>;
}

// Two lists: Node's BlockList matches IPv4 addresses against IPv4-mapped IPv6 subnets, so a
// single list holding ::ffff:0:0/96 would block every IPv4 address.
const BLOCKED = makeBlockedLists();

function makeBlockedLists(): { v4: BlockList; v6: BlockList } {
  const v4List = new BlockList();
  const v6List = new BlockList();
  const v4: Array<[string, number]> = [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ];
  for (const [net, prefix] of v4) v4List.addSubnet(net, prefix, 'ipv4');
  const v6: Array<[string, number]> = [
    ['::', 128],
    ['::1', 128],
    ['::ffff:0:0', 96],
    ['64:ff9b::', 96],
    ['100::', 64],
    ['2001:db8::', 32],
    ['fc00::', 7],
    ['fe80::', 10],
    ['fec0::', 10],
    ['ff00::', 8],
  ];
  for (const [net, prefix] of v6) v6List.addSubnet(net, prefix, 'ipv6');
  return { v4: v4List, v6: v6List };
}

/** Parses `ATLAS_WEBHOOK_ALLOWLIST`: `hooks.internal,127.0.0.1,10.1.0.0/16,::1`. */
export function parseAllowlist(value: string | undefined): SsrfPolicy {
  const hosts = new Set<string>();
  const allow = new BlockList();
  for (const raw of (value ?? '').split(',')) {
    const item = raw.trim().toLowerCase();
    if (item === '') continue;
    const [addr, prefix] = item.split('/');
    const family = isIP(addr ?? '');
    if (family === 0) {
      hosts.add(item);
      continue;
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) allow.addAddress(addr!, type);
    else allow.addSubnet(addr!, Number(prefix), type);
  }
  return { hosts, allow };
}

/** True when the address is in a range that must not be reached from tenant-controlled URLs. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return family === 4 ? BLOCKED.v4.check(address, 'ipv4') : BLOCKED.v6.check(address, 'ipv6');
}

function isAllowed(policy: SsrfPolicy, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && policy.allow.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

async function defaultResolve(host: string): Promise<string[]> {
  const answers = await lookup(host, { all: true, verbatim: true });
  return answers.map((answer) => answer.address);
}

/**
 * Throws a fatal `ssrf_blocked` ConnectorError unless every address of the URL's host is
 * public or allow-listed. Only http and https are accepted.
 */
export async function assertPublicUrl(url: URL, policy: SsrfPolicy): Promise<void> {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw ConnectorError.fatal('ssrf_blocked', `scheme ${url.protocol} is not allowed`);
  }
  // URL keeps IPv6 literals in brackets.
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (policy.hosts.has(host)) return;
  let addresses: string[];
  if (isIP(host) !== 0) addresses = [host];
  else {
    try {
      addresses = await (policy.resolve ?? defaultResolve)(host);
    } catch (cause) {
      throw ConnectorError.retryable('dns_failed', `could not resolve ${host}`, { cause });
    }
  }
  if (addresses.length === 0) throw ConnectorError.retryable('dns_failed', `no address for ${host}`);
  for (const address of addresses) {
    if (isBlockedAddress(address) && !isAllowed(policy, address)) {
      throw ConnectorError.fatal('ssrf_blocked', `${host} resolves to a non-public address`);
    }
  }
}
