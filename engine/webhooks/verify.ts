/**
 * Signature checks on the raw request bytes, before anything parses them: re-serialised JSON
 * never verifies. Every comparison is constant time on equal-length buffers
 * (`crypto.timingSafeEqual`). A verdict's status is 400 when a header is missing or
 * malformed and 401 when it is well-formed but does not verify (wrong signature, stale
 * timestamp).
 *
 * A secret value may hold several secrets: any of them verifies, so a secret can be rotated on
 * the Atlas side before the provider's side. Provider secrets never contain whitespace
 * (`whsec_...`, Telegram's A-Z a-z 0-9 _ -, base64), so whitespace separates them; a plain
 * `hmac-sha256` secret may contain spaces, so there only line breaks do.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookVerify } from '../manifest/types.gen.ts';
import { decodeKey, MIN_KEY_BYTES } from './keys.ts';

export type Verdict = { ok: true } | { ok: false; status: 400 | 401; reason: RejectReason; detail: string };

export type RejectReason =
  | 'header_missing'
  | 'header_malformed'
  | 'signature_mismatch'
  | 'timestamp_stale'
  | 'secret_invalid';

export interface VerifyRequest {
  raw: Buffer;
  /** A request header by lower-case name; '' when absent. */
  header(name: string): string;
  /** The configured secret value(s). */
  secret: string;
  toleranceSec: number;
  nowSec: number;
}

const OK: Verdict = { ok: true };
const fail = (status: 400 | 401, reason: RejectReason, detail: string): Verdict => ({
  ok: false,
  status,
  reason,
  detail,
});
const missing = (name: string) => fail(400, 'header_missing', `The ${name} header is missing.`);
const malformed = (name: string, detail: string) => fail(400, 'header_malformed', `${name}: ${detail}`);
const mismatch = (name: string) => fail(401, 'signature_mismatch', `${name} does not match the body.`);
const invalidKey = fail(
  401,
  'secret_invalid',
  `The configured secret is not base64 of at least ${MIN_KEY_BYTES} bytes; store a valid one.`,
);

/** The usable keys of a base64-keyed method; a value that decodes to nothing (or little) is no key. */
function keysOf(method: WebhookVerify['method'], value: string): Buffer[] {
  return secretsOf(value).flatMap((secret) => decodeKey(method, secret) ?? []);
}

export function verifyRequest(spec: WebhookVerify, req: VerifyRequest): Verdict {
  switch (spec.method) {
    case 'stripe-signature':
      return verifyStripe(req);
    case 'telegram-secret-token':
      return verifyToken(req, 'x-telegram-bot-api-secret-token');
    case 'teams-hmac':
      return verifyTeams(req);
    case 'standard-webhooks':
      return verifyStandard(req);
    case 'hmac-sha256':
      return verifyHmac(spec, req);
  }
}

export function secretsOf(value: string, separator: RegExp = /\s+/): string[] {
  return value.split(separator).filter((s) => s.trim() !== '');
}

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const TIMESTAMP = /^\d{1,12}$/;

/** True when `given` equals one of the expected digests; every candidate is compared. */
function anyEqual(given: Buffer[], expected: Buffer[]): boolean {
  let found = false;
  for (const g of given) {
    for (const e of expected) {
      if (g.length === e.length && timingSafeEqual(g, e)) found = true;
    }
  }
  return found;
}

function hmac(key: string | Buffer, ...parts: Array<string | Buffer>): Buffer {
  const h = createHmac('sha256', key);
  for (const part of parts) h.update(part);
  return h.digest();
}

function stale(req: VerifyRequest, timestamp: number, name: string): Verdict | undefined {
  if (Math.abs(req.nowSec - timestamp) <= req.toleranceSec) return undefined;
  return fail(
    401,
    'timestamp_stale',
    `${name} is ${req.nowSec - timestamp} s from now, outside the tolerance of ${req.toleranceSec} s.`,
  );
}

/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`, HMAC-SHA256 keyed with the whole
 * `whsec_...` string over `${t}.${body}`. While a secret is rolled Stripe sends one `v1` per
 * active secret; any match passes. `v0` (test mode, legacy) is ignored as stripe-node does.
 */
function verifyStripe(req: VerifyRequest): Verdict {
  const name = 'Stripe-Signature';
  const header = req.header('stripe-signature');
  if (header === '') return missing(name);
  let t: string | undefined;
  const v1: Buffer[] = [];
  for (const item of header.split(',')) {
    const eq = item.indexOf('=');
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (key === 't') t = value;
    else if (key === 'v1' && HEX_SHA256.test(value)) v1.push(Buffer.from(value, 'hex'));
  }
  if (t === undefined || !TIMESTAMP.test(t)) return malformed(name, 'expected t=<unix seconds>.');
  if (v1.length === 0) return malformed(name, 'expected at least one v1=<64 hex digits>.');
  const expected = secretsOf(req.secret).map((secret) => hmac(secret, `${t}.`, req.raw));
  if (!anyEqual(v1, expected)) return mismatch(name);
  return stale(req, Number(t), `The ${name} timestamp`) ?? OK;
}

/**
 * A shared token in a header (Telegram's `X-Telegram-Bot-Api-Secret-Token`, set with
 * setWebhook). Both sides are hashed first so the comparison has equal lengths and leaks no
 * length either.
 */
function verifyToken(req: VerifyRequest, headerName: string): Verdict {
  const given = req.header(headerName);
  if (given === '') return missing(headerName);
  const digest = (s: string) => createHash('sha256').update(s).digest();
  if (!anyEqual([digest(given)], secretsOf(req.secret).map(digest))) return mismatch(headerName);
  return OK;
}

/**
 * Teams outgoing webhooks: `Authorization: HMAC <base64>`, an HMAC-SHA256 of the body keyed by
 * the base64-DECODED security token Teams showed when the webhook was created (keying with
 * the token text itself is the classic mistake).
 */
function verifyTeams(req: VerifyRequest): Verdict {
  const name = 'Authorization';
  const header = req.header('authorization');
  if (header === '') return missing(name);
  const match = /^HMAC\s+(\S+)$/i.exec(header.trim());
  if (!match || !BASE64.test(match[1]!)) return malformed(name, 'expected "HMAC <base64>".');
  const given = Buffer.from(match[1]!, 'base64');
  const keys = keysOf('teams-hmac', req.secret);
  if (keys.length === 0) return invalidKey;
  const expected = keys.map((key) => hmac(key, req.raw));
  return anyEqual([given], expected) ? OK : mismatch(name);
}

/**
 * Standard Webhooks: `webhook-signature: v1,<base64>[ v1,<base64>...]`, an HMAC-SHA256 of
 * `${webhook-id}.${webhook-timestamp}.${body}` keyed by the base64 part of `whsec_<base64>`.
 * Implemented here (and tested against the `standardwebhooks` package) because the package
 * fixes its tolerance at five minutes and the route's is configurable.
 */
function verifyStandard(req: VerifyRequest): Verdict {
  const id = req.header('webhook-id');
  const timestamp = req.header('webhook-timestamp');
  const signature = req.header('webhook-signature');
  if (id === '') return missing('webhook-id');
  if (timestamp === '') return missing('webhook-timestamp');
  if (signature === '') return missing('webhook-signature');
  if (!TIMESTAMP.test(timestamp)) return malformed('webhook-timestamp', 'expected unix seconds.');
  const given = signature
    .split(' ')
    .filter((s) => s.startsWith('v1,') && BASE64.test(s.slice(3)))
    .map((s) => Buffer.from(s.slice(3), 'base64'));
  if (given.length === 0) return malformed('webhook-signature', 'expected "v1,<base64>".');
  const keys = keysOf('standard-webhooks', req.secret);
  if (keys.length === 0) return invalidKey;
  const expected = keys.map((key) => hmac(key, `${id}.${timestamp}.`, req.raw));
  if (!anyEqual(given, expected)) return mismatch('webhook-signature');
  return stale(req, Number(timestamp), 'webhook-timestamp') ?? OK;
}

/** A plain HMAC-SHA256 of the body in a header the route names (GitHub-style `sha256=<hex>`). */
function verifyHmac(spec: WebhookVerify, req: VerifyRequest): Verdict {
  const name = spec.header ?? '';
  const header = req.header(name);
  if (header === '') return missing(name);
  const prefix = spec.prefix ?? '';
  if (!header.startsWith(prefix)) return malformed(name, `expected the prefix "${prefix}".`);
  const value = header.slice(prefix.length);
  const base64 = spec.encoding === 'base64';
  if (!(base64 ? BASE64.test(value) : HEX_SHA256.test(value)))
    return malformed(name, `expected a ${base64 ? 'base64' : 'hex'} HMAC-SHA256.`);
  const given = Buffer.from(value, base64 ? 'base64' : 'hex');
  const expected = secretsOf(req.secret, /\r?\n/).map((secret) => hmac(secret, req.raw));
  return anyEqual([given], expected) ? OK : mismatch(name);
}
