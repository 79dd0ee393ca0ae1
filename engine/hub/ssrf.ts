/**
 * SSRF guard for every outbound call a connector makes through `ctx.http`.
 *
 * Addresses are classified with ipaddr.js: only `unicast` IPv4 and IPv6 in 2000::/3 count as
 * public. Everything else (private, loopback, link-local, unique-local, carrier-grade NAT,
 * multicast, reserved, and the IPv6 forms that embed an IPv4 address: mapped `::ffff:0:0/96`,
 * compatible `::/96`, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, 6to4 `2002::/16`, Teredo
 * `2001::/32`, and the 6to4 relay `192.88.99.0/24`) is refused unless allow-listed
 * (`ATLAS_OUTBOUND_ALLOWLIST`: host names, addresses and CIDRs, comma separated).
 *
 * Destinations the operator configured (connector base URLs, agents' `model.baseUrl`) are
 * trusted by origin and not checked; see `makeHttpClient`.
 *
 * DNS rebinding: the check runs inside the connection's `lookup` hook (`guardedLookup`, on an
 * undici Agent per policy in http.ts), so the socket connects to exactly the addresses that were checked, on every
 * redirect hop. URLs with a literal address never reach a lookup and are checked up front.
 */

import type { LookupAddress, LookupOptions } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { ConnectorError } from '../connector-sdk/errors.ts';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Address, number];

export interface SsrfPolicy {
  /** Host names (exact, lower case) that may be reached whatever they resolve to. */
  hosts: Set<string>;
  /** Addresses and ranges that may be reached although not public. */
  cidrs: Cidr[];
  /** Resolves a host name to every address; injectable (tests use a local DNS server). */
  resolve?: (host: string) => Promise<string[]>;
}

/** IPv6 global unicast is 2000::/3; ipaddr.js calls the rest of the unassigned space unicast too. */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
/** Embedded-IPv4 and special ranges inside 2000::/3 or missing from ipaddr.js' table. */
const EXTRA_BLOCKED: Cidr[] = ['64:ff9b:1::/48', '::/96', '2001::/23', '192.88.99.0/24'].map((c) =>
  ipaddr.parseCIDR(c),
);

/** True when the address is not a public unicast address. */
export function isBlockedAddress(address: string): boolean {
  if (isIP(address) === 0) return true;
  const parsed = ipaddr.parse(address);
  if (parsed.range() !== 'unicast') return true;
  if (parsed.kind() === 'ipv6' && !parsed.match(GLOBAL_UNICAST_V6)) return true;
  return EXTRA_BLOCKED.some(([net, bits]) => parsed.kind() === net.kind() && parsed.match(net, bits));
}

/**
 * Parses the allowlist: `hooks.internal,127.0.0.1,10.1.0.0/16,::1`. Throws a TypeError
 * naming the entry that is neither a host name, an address nor a CIDR.
 */
export function parseAllowlist(value: string | undefined): SsrfPolicy {
  const hosts = new Set<string>();
  const cidrs: Cidr[] = [];
  for (const raw of (value ?? '').split(',')) {
    const item = raw
      .trim()
      .toLowerCase()
      .replace(/^\[|\]$/g, '');
    if (item === '') continue;
    if (item.includes('/') && isIP(item.slice(0, item.indexOf('/'))) !== 0) {
      if (!ipaddr.isValidCIDR(item)) throw new TypeError(`"${raw.trim()}" is not a valid CIDR`);
      cidrs.push(ipaddr.parseCIDR(item));
    } else if (isIP(item) !== 0) {
      const addr = ipaddr.parse(item);
      cidrs.push([addr, addr.kind() === 'ipv4' ? 32 : 128]);
    } else if (/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$/.test(item)) {
      hosts.add(item.replace(/\.$/, ''));
    } else {
      throw new TypeError(`"${raw.trim()}" is neither a host name, an address nor a CIDR`);
    }
  }
  return { hosts, cidrs };
}

function isAllowed(policy: SsrfPolicy, address: string): boolean {
  if (isIP(address) === 0) return false;
  let parsed: Address = ipaddr.parse(address);
  // An allow-listed IPv4 range also covers its IPv4-mapped IPv6 form, and the reverse.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return policy.cidrs.some(([net, bits]) => parsed.kind() === net.kind() && parsed.match(net, bits));
}

/** The URL's host as Atlas compares it: lower case, IPv6 without brackets, no trailing dot. */
function urlHost(url: URL): string {
  return url.hostname
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.$/, '');
}

/** True when the host is allow-listed by name. */
export function isAllowedHost(policy: SsrfPolicy, url: URL): boolean {
  return policy.hosts.has(urlHost(url));
}

/**
 * The refusal a tenant sees: it names the host it wrote, never the address an internal name
 * resolved to nor its range (that would map the operator's network for the tenant).
 */
function blocked(host: string, address: string): ConnectorError {
  const what =
    host === address ? `${host} is not a public address` : `${host} resolves to a non-public address`;
  return ConnectorError.fatal(
    'ssrf_blocked',
    `${what}; an operator may allow it in ATLAS_OUTBOUND_ALLOWLIST if it is meant to be reached`,
  );
}

function checkAddress(policy: SsrfPolicy, host: string, address: string): void {
  if (isBlockedAddress(address) && !isAllowed(policy, address)) throw blocked(host, address);
}

/**
 * Checks what can be checked before connecting: the scheme, and a literal address (which
 * never reaches a lookup). Host names are checked when the connection resolves them.
 */
export function assertUrlAllowed(url: URL, policy: SsrfPolicy): void {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw ConnectorError.fatal('ssrf_blocked', `scheme ${url.protocol} is not allowed`);
  }
  const host = urlHost(url);
  if (isIP(host) !== 0) checkAddress(policy, host, host);
}

async function defaultResolve(host: string): Promise<string[]> {
  const answers = await dnsLookup(host, { all: true, verbatim: true });
  return answers.map((answer) => answer.address);
}

/** Resolves a host and returns its addresses once every one of them passed the check. */
async function resolveChecked(host: string, policy: SsrfPolicy): Promise<string[]> {
  if (isIP(host) !== 0) {
    checkAddress(policy, host, host);
    return [host];
  }
  let addresses: string[];
  try {
    addresses = await (policy.resolve ?? defaultResolve)(host);
  } catch (cause) {
    throw ConnectorError.retryable('dns_failed', `could not resolve ${host}`, { cause });
  }
  if (addresses.length === 0) throw ConnectorError.retryable('dns_failed', `no address for ${host}`);
  for (const address of addresses) checkAddress(policy, host, address);
  return addresses;
}

/**
 * Throws a fatal `ssrf_blocked` ConnectorError unless the URL's scheme is http(s) and every
 * address of its host is public or allow-listed (or the host is allow-listed by name).
 */
export async function assertPublicUrl(url: URL, policy: SsrfPolicy): Promise<void> {
  assertUrlAllowed(url, policy);
  if (isAllowedHost(policy, url)) return;
  await resolveChecked(urlHost(url), policy);
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for sockets: resolves, checks every address, and hands the socket only those.
 * The check and the connection use the same answer, so a name cannot rebind in between.
 */
export function guardedLookup(policy: SsrfPolicy) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
    resolveChecked(host, policy).then(
      (addresses) => {
        const answers = addresses.map((address) => ({ address, family: isIP(address) }));
        const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
        const usable = wanted ? answers.filter((a) => a.family === wanted) : answers;
        if (options.all) callback(null, usable);
        else if (usable[0]) callback(null, usable[0].address, usable[0].family);
        else
          callback(
            Object.assign(new Error(`no IPv${wanted} address for ${host}`), { code: 'ENOTFOUND' }),
            '',
          );
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}
