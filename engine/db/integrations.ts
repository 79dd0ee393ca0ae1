/**
 * Queries of `integrations`: one row per tenant and provider, its tokens sealed by
 * oauth/store.ts before they reach these functions. Every token write bumps `version`, which
 * is how a worker that waited for a lock knows another one has renewed the token meanwhile.
 */
import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export type IntegrationStatus = 'connected' | 'disconnected';

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

/** Sealed token columns and what comes with them. */
export interface SealedTokens {
  access_token: string;
  /** Undefined keeps the stored refresh token (a provider that did not rotate it). */
  refresh_token?: string | null;
  scopes?: string[];
  key_id: string;
  expires_at: Date | null;
}

/** Inserts or replaces the tenant's connection of a provider, connected. */
export async function upsertIntegration(
  db: Db,
  ids: { tenant_id: string; provider: string },
  values: SealedTokens & { account: string | null; scopes: string[]; connected_by: string },
): Promise<IntegrationRow> {
  const all = {
    ...values,
    refresh_token: values.refresh_token ?? null,
    status: 'connected',
    status_reason: null,
    refreshed_at: db.fn.now(),
    updated_at: db.fn.now(),
  };
  const [row] = await db('integrations')
    .insert({ ...ids, ...all })
    .onConflict(['tenant_id', 'provider'])
    .merge({ ...all, version: db.raw('integrations.version + 1') })
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

/** Stores renewed tokens in one statement and bumps the version. */
export async function updateIntegrationTokens(
  db: Db,
  row: Pick<IntegrationRow, 'id' | 'tenant_id'>,
  tokens: SealedTokens,
): Promise<IntegrationRow> {
  const [updated] = await db('integrations')
    .where({ id: row.id, tenant_id: row.tenant_id })
    .update({
      access_token: tokens.access_token,
      ...(tokens.refresh_token === undefined ? {} : { refresh_token: tokens.refresh_token }),
      ...(tokens.scopes === undefined ? {} : { scopes: tokens.scopes }),
      key_id: tokens.key_id,
      expires_at: tokens.expires_at,
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

/** The tenant's integrations, by provider. */
export async function listIntegrationRows(db: Db, tenantId: string): Promise<IntegrationRow[]> {
  return db('integrations').where({ tenant_id: tenantId }).orderBy('provider').select<IntegrationRow[]>('*');
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
