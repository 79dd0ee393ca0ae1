/**
 * Redaction: the one place that decides what an audit entry or a log line may show.
 * Two layers: values that look like credentials (provider prefixes, bearer tokens, JWTs,
 * PEM blocks) and values under keys that name a secret. A {@link Redactor} adds a third:
 * the exact values the engine resolved for this call (tenant secrets, OAuth tokens), so a
 * credential with no recognisable shape is still scrubbed.
 */

export const REDACTED = '[REDACTED]';

/** Key names whose values are never shown (headers, query parameters, JSON fields). `sig` is
 * the signature of Azure SAS and Logic Apps / Teams Workflows URLs; `code` an OAuth code. */
const SECRET_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[-_]?key|apikey|access[-_]?token|refresh[-_]?token|id[-_]?token|token|client[-_]?secret|secret|password|passwd|pwd|private[-_]?key|signature|sig|code|x-amz-signature|x-goog-signature|webhook-signature|stripe-signature|x-telegram-bot-api-secret-token|secret[-_]?token|code[-_]?verifier|key|auth)$/i;

/** Substrings of key names that mark a secret (`stripeSecretKey`, `x-goog-api-key`). */
const SECRET_KEY_PART =
  /(secret|password|passwd|api[-_]?key|credential|private[-_]?key|authorization|[-_a-z]token$)/i;

const PATTERNS: RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}/g,
  /\bwhsec_[A-Za-z0-9+/=_-]{8,}/g,
  /\bxox[abprs]-[A-Za-z0-9-]{8,}/g,
  /\bre_[A-Za-z0-9_]{16,}/g,
  /\bsk-[A-Za-z0-9_-]{16,}/g,
  /\bcsk-[A-Za-z0-9]{16,}/g,
  /\bya29\.[A-Za-z0-9._-]{8,}/g,
  // Telegram bot tokens: `<bot id>:<35 chars>`, also inside `/bot<token>/method` paths.
  /(?<![0-9])\d{6,12}:[A-Za-z0-9_-]{30,}/g,
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
  /\b(Bearer|Basic|HMAC)\s+[A-Za-z0-9._~+/=-]{6,}/gi,
];

/** Replaces credential-shaped substrings of a string. */
export function redactString(value: string, known: Iterable<string> = []): string {
  let out = value;
  for (const secret of known) {
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  for (const pattern of PATTERNS) out = out.replace(pattern, REDACTED);
  return out;
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) || SECRET_KEY_PART.test(key);
}

/**
 * Deep-copies a value with secrets replaced. Strings are scanned for credential shapes;
 * object fields whose key names a secret are replaced whole. Cycles and depth are bounded
 * so hostile input cannot make redaction itself fail.
 */
export function redact<T>(value: T, known: Iterable<string> = []): T {
  const knownList = [...known];
  return walk(value, knownList, 0, new WeakSet()) as T;
}

function walk(value: unknown, known: string[], depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactString(value, known);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 20 || seen.has(value)) return '[Truncated]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => walk(item, known, depth + 1, seen));
  if (value instanceof Error) return { name: value.name, message: redactString(value.message, known) };
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] =
      isSecretKey(key) && item !== undefined && item !== null ? REDACTED : walk(item, known, depth + 1, seen);
  }
  return out;
}

/** Headers as a plain object, secret ones replaced. */
export function redactHeaders(
  headers: Headers | Record<string, string>,
  known: Iterable<string> = [],
): Record<string, string> {
  const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  const knownList = [...known];
  const out: Record<string, string> = {};
  for (const [key, value] of entries) {
    out[key.toLowerCase()] = isSecretKey(key) ? REDACTED : redactString(value, knownList);
  }
  return out;
}

/** A URL's path with credential-shaped segments replaced (Telegram puts the token there). */
export function redactPath(pathname: string, known: Iterable<string> = []): string {
  return redactString(pathname, known);
}

/** Query parameters with secret keys (or credential-shaped values) replaced. */
export function redactQuery(params: URLSearchParams, known: Iterable<string> = []): Record<string, string> {
  const knownList = [...known];
  const out: Record<string, string> = {};
  for (const [key, value] of params) out[key] = isSecretKey(key) ? REDACTED : redactString(value, knownList);
  return out;
}

/**
 * Remembers the exact secret values resolved for one action call, so they are scrubbed even
 * when they have no recognisable shape. Values shorter than 4 characters are ignored: they
 * would redact ordinary text and are no real secret.
 */
export interface Redactor {
  add(value: string | undefined): void;
  values(): readonly string[];
  redact<T>(value: T): T;
  redactString(value: string): string;
}

export function makeRedactor(initial: Iterable<string> = []): Redactor {
  const known = new Set<string>();
  const add = (value: string | undefined) => {
    if (value !== undefined && value.length >= 4) known.add(value);
  };
  for (const value of initial) add(value);
  // Longest first, so a secret that contains another is replaced whole.
  const values = () => [...known].sort((a, b) => b.length - a.length);
  return {
    add,
    values,
    redact: (value) => redact(value, values()),
    redactString: (value) => redactString(value, values()),
  };
}
