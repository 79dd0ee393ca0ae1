/**
 * Connect links: a single-use URL, valid for minutes, that starts the authorization of a
 * tenant's provider in whichever browser opens it. They serve clients that cannot send a
 * bearer token on a navigation (the web page, a "reconnect your account" notification):
 * opening one binds the new state to that browser, as the authorize route does for a browser
 * that calls it itself. The link is a capability, like a password reset link: only its SHA-256
 * is stored, and opening it deletes the row in the statement that reads it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { deleteConnectLinksBefore, insertConnectLink, takeConnectLink } from '../db/oauth-connect-links.ts';
import { isTenantActive } from '../db/tenants.ts';
import { nowOf, type OAuthDeps, providerFor } from './deps.ts';
import { type AuthorizationStart, authorizableManifest, startAuthorization } from './flow.ts';

export const LINK_TTL_MS = 15 * 60_000;
export const MAX_LINK_TTL_MS = 60 * 60_000;
const MIN_LINK_TTL_MS = 60_000;

export interface ConnectLink {
  /** The row's id: what the audit log names. */
  id: string;
  /** `<ATLAS_PUBLIC_URL>/v1/connect/<token>`: hand it to the user, never log it. */
  url: string;
  expiresAt: Date;
}

export interface ConnectLinkRequest {
  tenantId: string;
  provider: string;
  /** Who asks: the connection is made, and audited, in their name. */
  userSub: string;
  /** 1 to 60 minutes; 15 by default. */
  ttlMs?: number;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Mints a link for a provider the tenant can authorize now (its app is configured). `db`
 * defaults to the hub's; pass a transaction to commit the link with its audit entry.
 */
export async function mintConnectLink(
  deps: OAuthDeps,
  req: ConnectLinkRequest,
  db: Knex | Knex.Transaction = deps.db,
): Promise<ConnectLink> {
  const ttlMs = req.ttlMs ?? LINK_TTL_MS;
  if (!Number.isInteger(ttlMs) || ttlMs < MIN_LINK_TTL_MS || ttlMs > MAX_LINK_TTL_MS) {
    throw new RangeError(`a connect link lives between 1 and 60 minutes (asked for ${ttlMs} ms)`);
  }
  await providerFor(deps, authorizableManifest(deps, req.provider), req.tenantId);
  const token = randomBytes(32).toString('base64url');
  const now = nowOf(deps);
  const expiresAt = new Date(now.getTime() + ttlMs);
  const id = await insertConnectLink(db, {
    token_hash: hashToken(token),
    tenant_id: req.tenantId,
    provider: req.provider,
    user_sub: req.userSub,
    expires_at: expiresAt,
  });
  // Unused links are swept as new ones are made: the table stays small without a job.
  await deleteConnectLinksBefore(db, new Date(now.getTime() - MAX_LINK_TTL_MS));
  return {
    id,
    url: `${deps.publicUrl.replace(/\/+$/, '')}/v1/connect/${token}`,
    expiresAt,
  };
}

export type OpenedLink =
  | { ok: true; tenantId: string; provider: string; start: AuthorizationStart }
  | { ok: false; reason: 'unknown' | 'expired' | 'tenant_disabled' };

/** Spends the link (once) and starts the authorization it was minted for. */
export async function openConnectLink(deps: OAuthDeps, token: string): Promise<OpenedLink> {
  const row = await takeConnectLink(deps.db, hashToken(token));
  if (!row) return { ok: false, reason: 'unknown' };
  if (row.expires_at.getTime() <= nowOf(deps).getTime()) return { ok: false, reason: 'expired' };
  const { tenant_id: tenantId, provider } = row;
  if (!(await isTenantActive(deps.db, tenantId))) return { ok: false, reason: 'tenant_disabled' };
  const start = await startAuthorization(deps, { tenantId, provider, userSub: row.user_sub });
  return { ok: true, tenantId, provider, start };
}
