/** Parsers of single variables: each refuses a bad value with one sentence naming it. */
import { ConfigError } from './error.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function parseDatabaseUrl(env: Env, name = 'DATABASE_URL'): string | undefined {
  const expected = 'expected postgres://user:password@host:5432/database';
  return parseUrl(
    env,
    name,
    () => `is not a URL; ${expected}`,
    (url) => {
      if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
        return `must start with postgres:// (got ${url.protocol}//)`;
      if (url.hostname === '' && !url.searchParams.has('host')) return `names no host; ${expected}`;
      return undefined;
    },
  );
}

/**
 * The URL in `name`, or undefined when it is unset. A value that does not parse is refused with
 * `notUrl`; a parsed one with what `refuse` says is wrong with it (undefined: nothing).
 */
function parseUrl(
  env: Env,
  name: string,
  notUrl: (raw: string) => string,
  refuse: (url: URL, raw: string) => string | undefined,
): string | undefined {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, notUrl(raw));
  }
  const wrong = refuse(url, raw);
  if (wrong !== undefined) throw new ConfigError(name, wrong);
  return raw;
}

const notAUrl = (raw: string) => `is not a URL (got "${raw}")`;

export function parseLogLevel(env: Env): LogLevel {
  const raw = nonEmpty(env, 'LOG_LEVEL')?.toLowerCase() ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')} (got "${raw}")`);
  }
  return raw as LogLevel;
}

export function parseInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

const DURATION = /^(\d+)(ms|s|m|h|d)?$/;
const DURATION_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function parseDurationVar(env: Env, name: string, fallback: number): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  const match = DURATION.exec(raw);
  if (!match) throw new ConfigError(name, `must be a duration such as 500ms, 10s or 5m (got "${raw}")`);
  return Number(match[1]) * DURATION_MS[(match[2] ?? 'ms') as keyof typeof DURATION_MS];
}

const SIZE = /^(\d+)(b|kb|mb)?$/i;
const SIZE_BYTES = { b: 1, kb: 1024, mb: 1024 * 1024 } as const;

export function parseSize(env: Env, name: string, fallback: number): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  const match = SIZE.exec(raw);
  if (!match) throw new ConfigError(name, `must be a size such as 512kb or 1mb (got "${raw}")`);
  return Number(match[1]) * SIZE_BYTES[(match[2]?.toLowerCase() ?? 'b') as keyof typeof SIZE_BYTES];
}

export const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Keys fetched over plain HTTP could be swapped in transit: HTTPS, except on loopback. */
export function parseJwksUrl(env: Env): string | undefined {
  return parseUrl(env, 'ATLAS_JWKS_URL', notAUrl, (url) =>
    isHttpsOrLoopback(url) ? undefined : `must be an https:// URL (got ${url.protocol}//)`,
  );
}

function isHttpsOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
}

export function parseSecret(env: Env, name: string, minLength: number): string | undefined {
  const raw = nonEmpty(env, name);
  if (raw !== undefined && raw.length < minLength) {
    throw new ConfigError(name, `must be at least ${minLength} characters long (got ${raw.length})`);
  }
  return raw;
}

/** An https URL (http on loopback, or anywhere with `anyHttp`: a private S3 endpoint, say). */
export function parseHttpUrl(env: Env, name: string, base: boolean, anyHttp = false): string | undefined {
  return parseUrl(env, name, notAUrl, (url, raw) => {
    if (!isHttpsOrLoopback(url) && !(anyHttp && url.protocol === 'http:'))
      return `must be an https:// URL, or http:// on 127.0.0.1 or localhost (got ${url.protocol}//)`;
    if (base && (url.search !== '' || url.hash !== ''))
      return `must be a base URL without a query or fragment (got "${raw}")`;
    return undefined;
  });
}

/** `true` or `false`; anything else (`yes`, `1`) is refused rather than read as false. */
export function parseBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ConfigError(name, `must be true or false (got "${raw}")`);
}
