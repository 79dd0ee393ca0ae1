export { DecryptError, decrypt, encrypt, envelopeKeyId, generateKey, needsRotation } from './envelope.ts';
export { type Keyring, KeyringError, parseKeyring } from './keyring.ts';
