/**
 * One-time `state` values of authorizations in progress (RFC 6749 section 10.12, RFC 9700
 * section 4.7). The state is 32 random bytes handed to the browser; the table keeps only its
 * SHA-256, bound to tenant, user, provider and redirect URI, with the PKCE verifier encrypted
 * under that hash. Each state is also bound to the browser that started it: another 32 random
 * bytes (the `binding`) go into that browser's cookie, never into a URL, and only their hash
 * is kept. A callback whose binding does not hash to it is refused without spending the state.
 * Consuming deletes the row in the same statement that reads it, so a replayed callback finds
 * nothing, even when two arrive at once.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import * as oauth from 'oauth4webapi';
import { decrypt, encrypt, type Keyring } from '../crypto/index.ts';
import { deleteState, deleteStatesBefore, insertState, readState, takeState } from '../db/oauth-states.ts';

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
  | { ok: false; reason: 'unknown' | 'expired' | 'wrong_provider' }
  /** The state is alive but the callback came from another browser: it stays usable. */
  | {
      ok: false;
      reason: 'browser_mismatch';
      pending: Pick<PendingAuthorization, 'tenantId' | 'provider' | 'userSub'>;
    };

export const hashState = (state: string) => createHash('sha256').update(state).digest('hex');
const aad = (stateHash: string) => `oauth_states:${stateHash}`;

export async function createState(
  db: Knex,
  keyring: Keyring,
  pending: PendingAuthorization,
  now: Date,
): Promise<{ state: string; binding: string; expiresAt: Date }> {
  const state = oauth.generateRandomState();
  const binding = oauth.generateRandomState();
  const stateHash = hashState(state);
  const expiresAt = new Date(now.getTime() + STATE_TTL_MS);
  await insertState(db, {
    state_hash: stateHash,
    tenant_id: pending.tenantId,
    provider: pending.provider,
    user_sub: pending.userSub,
    binding_hash: hashState(binding),
    redirect_uri: pending.redirectUri,
    code_verifier:
      pending.codeVerifier === undefined ? null : encrypt(pending.codeVerifier, keyring, aad(stateHash)),
    expires_at: expiresAt,
  });
  // Abandoned authorizations are swept as new ones start: the table stays small without a job.
  await deleteStatesBefore(db, new Date(now.getTime() - STATE_TTL_MS));
  return { state, binding, expiresAt };
}

/**
 * Takes the state out of the table (once only) and says whether it may be used: only with the
 * binding of the browser it was minted for. A state that browser presents for another provider
 * is spent.
 */
export async function consumeState(
  db: Knex,
  keyring: Keyring,
  state: string,
  provider: string,
  binding: string | undefined,
  now: Date,
): Promise<ConsumedState> {
  const stateHash = hashState(state);
  const found = await readState(db, stateHash);
  if (!found) return { ok: false, reason: 'unknown' };
  // Without the binding nothing happens to the state: whoever holds only the URL can neither
  // use it nor spend it.
  if (binding === undefined || !sameHash(hashState(binding), found.binding_hash)) {
    return {
      ok: false,
      reason: 'browser_mismatch',
      pending: {
        tenantId: found.tenant_id,
        provider: found.provider,
        userSub: found.user_sub,
      },
    };
  }
  if (found.provider !== provider) {
    await deleteState(db, stateHash);
    return { ok: false, reason: 'wrong_provider' };
  }
  const row = await takeState(db, stateHash, found.binding_hash);
  // Another callback with the same state and binding won the race.
  if (!row) return { ok: false, reason: 'unknown' };
  if (row.expires_at.getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
  const verifier = row.code_verifier;
  return {
    ok: true,
    pending: {
      tenantId: row.tenant_id,
      provider,
      userSub: row.user_sub,
      redirectUri: row.redirect_uri,
      codeVerifier: verifier === null ? undefined : decrypt(verifier, keyring, aad(stateHash)),
    },
  };
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
