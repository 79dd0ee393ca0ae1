/**
 * Signed download URLs of the local driver: `/v1/files/<id>/content?expires=&signature=`,
 * where the signature is an HMAC-SHA256 of the file id and the expiry under a key derived
 * (HKDF) from the encryption keyring. URLs are signed with the current key and verified with
 * every key of the ring, so a rotation does not break the URLs already handed out.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Keyring } from '../crypto/index.ts';

export interface UrlSigner {
  sign(fileId: string, expires: number): string;
  verify(fileId: string, expires: number, signature: string): boolean;
}

export function makeUrlSigner(keyring: Keyring): UrlSigner {
  const derive = (key: Buffer) =>
    Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'atlas files url v1', 32));
  const current = derive(keyring.keys.get(keyring.currentId)!);
  const all = [...keyring.keys.values()].map(derive);
  const mac = (key: Buffer, fileId: string, expires: number) =>
    createHmac('sha256', key).update(`${fileId}\n${expires}`).digest();
  return {
    sign: (fileId, expires) => mac(current, fileId, expires).toString('base64url'),
    verify(fileId, expires, signature) {
      const given = Buffer.from(signature, 'base64url');
      if (given.length !== 32) return false;
      return all.some((key) => timingSafeEqual(mac(key, fileId, expires), given));
    },
  };
}
