/**
 * One-time `state` values of authorizations in progress (RFC 6749 section 10.12, RFC 9700
 * section 4.7). The state is 32 random bytes handed to the browser; the table keeps only its
 * SHA-256, bound to tenant, user, provider and redirect URI, with the PKCE verifier encrypted
 * under that hash. Consuming deletes the row in the same statement that reads it, so a
 * replayed callback finds nothing, even when two arrive at once.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import * as oauth from 'oauth4webapi';
import { decrypt, encrypt, type Keyring } from '../crypto/index.ts';

/** How long a user has to finish at the provider. */
export const STATE_TTL_MS = 10 * 60_000;

export interface PendingAuthorization {
  tenantId: string;
  provider: string;
  userSub: string;
  redirectUri: string;
  codeVerifier: string | undefined;
}

export type ConsumedState =
  | { ok: true; pending: PendingAuthorization }
  | { ok: false; reason: 'unknown' | 'expired' | 'wrong_provider' };

const hashState = (state: string) => createHash('sha256').update(state).digest('hex');
const aad = (stateHash: string) => `oauth_states:${stateHash}`;

export async function createState(
  db: Knex,
  keyring: Keyring,
  pending: PendingAuthorization,
  now: Date,
): Promise<{ state: string; expiresAt: Date }> {
  const state = oauth.generateRandomState();
  const stateHash = hashState(state);
  const expiresAt = new Date(now.getTime() + STATE_TTL_MS);
  await db('oauth_states').insert({
    state_hash: stateHash,
    tenant_id: pending.tenantId,
    provider: pending.provider,
    user_sub: pending.userSub,
    redirect_uri: pending.redirectUri,
    code_verifier:
      pending.codeVerifier === undefined ? null : encrypt(pending.codeVerifier, keyring, aad(stateHash)),
    expires_at: expiresAt,
  });
  // Abandoned authorizations are swept as new ones start: the table stays small without a job.
  await db('oauth_states')
    .where('expires_at', '<', new Date(now.getTime() - STATE_TTL_MS))
    .delete();
  return { state, expiresAt };
}

/** Takes the state out of the table (once only) and says whether it may be used. */
export async function consumeState(
  db: Knex,
  keyring: Keyring,
  state: string,
  provider: string,
  now: Date,
): Promise<ConsumedState> {
  const stateHash = hashState(state);
  const [row] = (await db('oauth_states').where({ state_hash: stateHash }).delete().returning('*')) as Array<
    Record<string, unknown> | undefined
  >;
  if (!row) return { ok: false, reason: 'unknown' };
  if ((row.expires_at as Date).getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
  if (row.provider !== provider) return { ok: false, reason: 'wrong_provider' };
  const verifier = row.code_verifier as string | null;
  return {
    ok: true,
    pending: {
      tenantId: row.tenant_id as string,
      provider,
      userSub: row.user_sub as string,
      redirectUri: row.redirect_uri as string,
      codeVerifier: verifier === null ? undefined : decrypt(verifier, keyring, aad(stateHash)),
    },
  };
}
