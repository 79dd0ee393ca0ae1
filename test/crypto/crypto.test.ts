import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DecryptError,
  decrypt,
  encrypt,
  envelopeKeyId,
  generateKey,
  KeyringError,
  needsRotation,
  parseKeyring,
} from '../../engine/crypto/index.ts';

const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('base64');

describe('envelope encryption', () => {
  it('round-trips and never contains the plaintext', () => {
    const ring = parseKeyring(keyA);
    const envelope = encrypt('sk_live_supersecretvalue', ring);
    expect(envelope).toMatch(/^v1:k1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$/);
    expect(envelope).not.toContain('supersecret');
    expect(decrypt(envelope, ring)).toBe('sk_live_supersecretvalue');
    expect(encrypt('same', ring)).not.toBe(encrypt('same', ring));
  });

  it('detects tampering in any part', () => {
    const ring = parseKeyring(keyA);
    const parts = encrypt('hello world', ring).split(':');
    for (const index of [2, 3, 4]) {
      const copy = [...parts];
      const bytes = Buffer.from(copy[index]!, 'base64url');
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      copy[index] = bytes.toString('base64url');
      expect(() => decrypt(copy.join(':'), ring)).toThrow(DecryptError);
    }
    expect(() => decrypt('v2:k1:a:b:c', ring)).toThrow(DecryptError);
    expect(() => decrypt('garbage', ring)).toThrow(DecryptError);
  });

  it('binds a value to its associated data', () => {
    const ring = parseKeyring(keyA);
    const envelope = encrypt('token', ring, 'tenant_a/STRIPE_KEY');
    expect(decrypt(envelope, ring, 'tenant_a/STRIPE_KEY')).toBe('token');
    expect(() => decrypt(envelope, ring, 'tenant_b/STRIPE_KEY')).toThrow(DecryptError);
  });

  it('fails with the wrong key', () => {
    const envelope = encrypt('secret', parseKeyring(`main:${keyA}`));
    expect(() => decrypt(envelope, parseKeyring(`main:${keyB}`))).toThrow(DecryptError);
    expect(() => decrypt(envelope, parseKeyring(`other:${keyA}`))).toThrow(/no key "main"/);
  });

  it('rotates: new values use the first key, old ones still decrypt', () => {
    const before = parseKeyring(`2024:${keyA}`);
    const old = encrypt('old value', before);
    const after = parseKeyring(`2025:${keyB},2024:${keyA}`);
    expect(decrypt(old, after)).toBe('old value');
    expect(needsRotation(old, after)).toBe(true);
    const fresh = encrypt('new value', after);
    expect(envelopeKeyId(fresh)).toBe('2025');
    expect(needsRotation(fresh, after)).toBe(false);
  });
});

describe('parseKeyring', () => {
  it('accepts a generated key', () => {
    expect(parseKeyring(generateKey()).currentId).toBe('k1');
  });

  it.each([
    ['', /not set/],
    ['c2hvcnQ=', /32 bytes/],
    [`a:${keyA},a:${keyB}`, /twice/],
    [`bad id:${keyA}`, /must match/],
    [`${keyA.slice(0, -4)}!!!!`, /32 bytes/],
  ])('rejects %j without echoing key material', (value, message) => {
    let error: unknown;
    try {
      parseKeyring(value);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(KeyringError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(keyA);
  });
});
