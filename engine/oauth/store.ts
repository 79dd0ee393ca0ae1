/**
 * Sealing and showing integrations: tokens are AES-256-GCM envelopes (the secrets store's
 * keyring) bound to tenant, provider and token kind, so a ciphertext copied to another row or
 * column does not decrypt. The table's queries are in db/integrations.ts.
 */
import type { Knex } from 'knex';
import { decrypt, encrypt, type Keyring } from '../crypto/index.ts';
import {
  type IntegrationRow,
  type IntegrationStatus,
  listIntegrationRows,
  updateIntegrationTokens,
  upsertIntegration,
} from '../db/integrations.ts';
import type { TokenSet } from './grants.ts';

export type { IntegrationStatus };

/** What the API shows: never a token. */
export interface IntegrationView {
  id: string;
  provider: string;
  account: string | null;
  scopes: string[];
  status: IntegrationStatus;
  statusReason: string | null;
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

type Db = Knex | Knex.Transaction;
type TokenKind = 'access' | 'refresh';

const aad = (tenantId: string, provider: string, kind: TokenKind) =>
  `integrations:${tenantId}:${provider}:${kind}`;

export function sealToken(
  keyring: Keyring,
  row: Pick<IntegrationRow, 'tenant_id' | 'provider'>,
  kind: TokenKind,
  token: string,
): string {
  return encrypt(token, keyring, aad(row.tenant_id, row.provider, kind));
}

export function openToken(
  keyring: Keyring,
  row: Pick<IntegrationRow, 'tenant_id' | 'provider'>,
  kind: TokenKind,
  envelope: string | null,
): string | undefined {
  return envelope === null ? undefined : decrypt(envelope, keyring, aad(row.tenant_id, row.provider, kind));
}

export interface Connection {
  tenantId: string;
  provider: string;
  tokens: TokenSet;
  /** Asked-for scopes, kept when the provider does not report what it granted. */
  requestedScopes: string[];
  connectedBy: string;
}

/** Stores a newly authorized connection, replacing an earlier one of the same provider. */
export async function saveConnection(db: Db, keyring: Keyring, c: Connection): Promise<IntegrationRow> {
  const ids = { tenant_id: c.tenantId, provider: c.provider };
  return upsertIntegration(db, ids, {
    account: c.tokens.account ?? null,
    scopes: c.tokens.scopes ?? c.requestedScopes,
    access_token: sealToken(keyring, ids, 'access', c.tokens.accessToken),
    refresh_token:
      c.tokens.refreshToken === undefined ? null : sealToken(keyring, ids, 'refresh', c.tokens.refreshToken),
    key_id: keyring.currentId,
    expires_at: c.tokens.expiresAt,
    connected_by: c.connectedBy,
  });
}

/**
 * Stores renewed tokens in one statement: a rotated refresh token replaces the old one
 * together with the access token it came with (the old one is already dead at the provider).
 * A provider that did not rotate leaves the stored refresh token in place.
 */
export async function storeRenewed(
  db: Knex.Transaction,
  keyring: Keyring,
  row: IntegrationRow,
  tokens: TokenSet,
): Promise<IntegrationRow> {
  return updateIntegrationTokens(db, row, {
    access_token: sealToken(keyring, row, 'access', tokens.accessToken),
    ...(tokens.refreshToken === undefined
      ? {}
      : { refresh_token: sealToken(keyring, row, 'refresh', tokens.refreshToken) }),
    ...(tokens.scopes === undefined ? {} : { scopes: tokens.scopes }),
    key_id: keyring.currentId,
    expires_at: tokens.expiresAt,
  });
}

export async function listIntegrations(db: Db, tenantId: string): Promise<IntegrationView[]> {
  return (await listIntegrationRows(db, tenantId)).map(toView);
}

export function toView(r: IntegrationRow): IntegrationView {
  return {
    id: r.id,
    provider: r.provider,
    account: r.account,
    scopes: r.scopes,
    status: r.status,
    statusReason: r.status_reason,
    expiresAt: r.expires_at?.toISOString() ?? null,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}
