/**
 * The `integrations` table: one row per tenant and provider. Tokens are AES-256-GCM envelopes
 * (the secrets store's keyring) bound to tenant, provider and token kind, so a ciphertext
 * copied to another row or column does not decrypt. Every token write bumps `version`, which
 * is how a worker that waited for a lock knows another one has renewed the token meanwhile.
 */
import type { Knex } from 'knex';
import { decrypt, encrypt, type Keyring } from '../crypto/index.ts';
import type { TokenSet } from './grants.ts';

export type IntegrationStatus = 'connected' | 'disconnected';

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

export interface IntegrationRow {
  id: string;
  tenant_id: string;
  provider: string;
  account: string | null;
  scopes: string[];
  status: IntegrationStatus;
  status_reason: string | null;
  access_token: string | null;
  refresh_token: string | null;
  expires_at: Date | null;
  refreshed_at: Date | null;
  version: number;
  created_at: Date;
  updated_at: Date;
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
  const values = {
    account: c.tokens.account ?? null,
    scopes: c.tokens.scopes ?? c.requestedScopes,
    status: 'connected',
    status_reason: null,
    access_token: sealToken(keyring, ids, 'access', c.tokens.accessToken),
    refresh_token:
      c.tokens.refreshToken === undefined ? null : sealToken(keyring, ids, 'refresh', c.tokens.refreshToken),
    key_id: keyring.currentId,
    expires_at: c.tokens.expiresAt,
    refreshed_at: db.fn.now(),
    connected_by: c.connectedBy,
    updated_at: db.fn.now(),
  };
  const [row] = await db('integrations')
    .insert({ ...ids, ...values })
    .onConflict(['tenant_id', 'provider'])
    .merge({ ...values, version: db.raw('integrations.version + 1') })
    .returning('*');
  return row as IntegrationRow;
}

/** The row of a tenant's provider; `lock` waits for (and then holds) its row lock. */
export async function findIntegration(
  db: Db,
  tenantId: string,
  provider: string,
  lock = false,
): Promise<IntegrationRow | undefined> {
  const query = db('integrations')
    .where({ tenant_id: tenantId, provider })
    .first<IntegrationRow | undefined>('*');
  return lock ? query.forUpdate() : query;
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
  const [updated] = await db('integrations')
    .where({ id: row.id, tenant_id: row.tenant_id })
    .update({
      access_token: sealToken(keyring, row, 'access', tokens.accessToken),
      ...(tokens.refreshToken === undefined
        ? {}
        : { refresh_token: sealToken(keyring, row, 'refresh', tokens.refreshToken) }),
      ...(tokens.scopes === undefined ? {} : { scopes: tokens.scopes }),
      key_id: keyring.currentId,
      expires_at: tokens.expiresAt,
      refreshed_at: db.fn.now(),
      version: db.raw('version + 1'),
      updated_at: db.fn.now(),
    })
    .returning('*');
  return updated as IntegrationRow;
}

/** The grant is gone: the tokens are deleted with it, the row stays to show why. */
export async function markDisconnected(db: Db, row: IntegrationRow, reason: string): Promise<void> {
  await db('integrations')
    .where({ id: row.id, tenant_id: row.tenant_id })
    .update({
      status: 'disconnected',
      status_reason: reason.slice(0, 500),
      access_token: null,
      refresh_token: null,
      version: db.raw('version + 1'),
      updated_at: db.fn.now(),
    });
}

export async function listIntegrations(db: Db, tenantId: string): Promise<IntegrationView[]> {
  const rows = await db('integrations')
    .where({ tenant_id: tenantId })
    .orderBy('provider')
    .select<IntegrationRow[]>('*');
  return rows.map(toView);
}

export async function findIntegrationById(
  db: Db,
  tenantId: string,
  id: string,
): Promise<IntegrationRow | undefined> {
  return db('integrations').where({ tenant_id: tenantId, id }).first<IntegrationRow | undefined>('*');
}

export async function deleteIntegration(db: Db, tenantId: string, id: string): Promise<boolean> {
  return (await db('integrations').where({ tenant_id: tenantId, id }).delete()) > 0;
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
