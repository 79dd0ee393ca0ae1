export { DecryptError, decrypt, encrypt, envelopeKeyId, generateKey, needsRotation } from './envelope.ts';
export { type Keyring, KeyringError, keyringFromEnv, parseKeyring } from './keyring.ts';
