/**
 * HMAC keys that are given as base64 (Teams security tokens, Standard Webhooks `whsec_` keys)
 * are decoded strictly: a mistyped value must not become a short or empty key anyone can
 * reproduce (`Buffer.from('!!!!', 'base64')` is empty). A key is usable when it is base64 of
 * at least 16 bytes; the same rule refuses a bad value at `PUT /v1/secrets`, at start for a
 * platform secret, and at verification.
 */
import type { WebhookVerify } from '../manifest/types.gen.ts';

export const MIN_KEY_BYTES = 16;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Whether the method keys its HMAC with base64-decoded bytes. */
function decodesKey(method: WebhookVerify['method']): boolean {
  return method === 'teams-hmac' || method === 'standard-webhooks';
}

/** The key bytes of one secret, or undefined when it is not base64 of 16+ bytes. */
export function decodeKey(method: WebhookVerify['method'], secret: string): Buffer | undefined {
  const text = method === 'standard-webhooks' ? secret.replace(/^whsec_/, '') : secret;
  if (!BASE64.test(text)) return undefined;
  const key = Buffer.from(text, 'base64');
  return key.length >= MIN_KEY_BYTES ? key : undefined;
}

/** One sentence on what is wrong with a secret value (several separated by whitespace), or undefined. */
export function keyProblem(method: WebhookVerify['method'], value: string): string | undefined {
  if (!decodesKey(method)) return undefined;
  const secrets = value.split(/\s+/).filter((s) => s !== '');
  const what =
    method === 'teams-hmac' ? 'A Teams security token' : 'A Standard Webhooks key (whsec_<base64>)';
  for (const [i, secret] of secrets.entries()) {
    if (decodeKey(method, secret) !== undefined) continue;
    const which = secrets.length > 1 ? ` (secret ${i + 1} of ${secrets.length})` : '';
    return `${what} must be base64 of at least ${MIN_KEY_BYTES} bytes${which}.`;
  }
  return secrets.length === 0 ? `${what} must be base64 of at least ${MIN_KEY_BYTES} bytes.` : undefined;
}
