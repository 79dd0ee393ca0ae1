/**
 * Tenants: the platform's list of customers. Platform queries (run as the engine, not as
 * `atlas_app`); a tenant can read its own row under `withTenant`.
 */
import type { Knex } from 'knex';

export type TenantStatus = 'active' | 'disabled';

export interface Tenant {
  id: string;
  name: string;
  status: TenantStatus;
  config: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface NewTenant {
  id: string;
  name: string;
  config?: Record<string, unknown>;
}

export interface TenantChanges {
  name?: string;
  status?: TenantStatus;
  config?: Record<string, unknown>;
}

/** The id is taken. */
export class TenantExistsError extends Error {
  constructor(id: string) {
    super(`tenant "${id}" already exists`);
    this.name = 'TenantExistsError';
  }
}

type Db = Knex | Knex.Transaction;

export async function createTenant(db: Db, tenant: NewTenant): Promise<Tenant> {
  const rows = await db('tenants')
    .insert({ id: tenant.id, name: tenant.name, config: JSON.stringify(tenant.config ?? {}) })
    .onConflict('id')
    .ignore()
    .returning('*');
  if (rows.length === 0) throw new TenantExistsError(tenant.id);
  return toTenant(rows[0]);
}

/** Undefined when there is no such tenant. */
/** Creates the tenant unless one with its id exists (then leaves it as it is). */
export async function ensureTenant(db: Db, tenant: NewTenant): Promise<void> {
  await db('tenants').insert({ id: tenant.id, name: tenant.name }).onConflict('id').ignore();
}

export async function updateTenant(db: Db, id: string, changes: TenantChanges): Promise<Tenant | undefined> {
  const patch: Record<string, unknown> = { updated_at: db.fn.now() };
  if (changes.name !== undefined) patch.name = changes.name;
  if (changes.status !== undefined) patch.status = changes.status;
  if (changes.config !== undefined) patch.config = JSON.stringify(changes.config);
  const rows = await db('tenants').where({ id }).update(patch).returning('*');
  return rows.length === 0 ? undefined : toTenant(rows[0]);
}

export async function getTenant(db: Db, id: string): Promise<Tenant | undefined> {
  const row = await db('tenants').where({ id }).first();
  return row === undefined ? undefined : toTenant(row);
}

/** The tenants among `ids` that exist (any status). */
export async function getTenants(db: Db, ids: readonly string[]): Promise<Tenant[]> {
  if (ids.length === 0) return [];
  return (await db('tenants').whereIn('id', ids)).map(toTenant);
}

/** Ids of active tenants, sorted, at most `limit`. */
export async function activeTenantIds(db: Db, limit: number): Promise<string[]> {
  const rows = await db('tenants').where({ status: 'active' }).orderBy('id').limit(limit).select('id');
  return rows.map((r: { id: string }) => r.id);
}

export interface TenantFilter {
  status?: TenantStatus;
  /** Tenants whose id sorts after this one (the cursor of the previous page). */
  afterId?: string;
  limit: number;
}

/** Sorted by id, keyset-paginated. */
export async function listTenants(db: Db, filter: TenantFilter): Promise<Tenant[]> {
  const query = db('tenants').orderBy('id').limit(filter.limit);
  if (filter.status !== undefined) query.where('status', filter.status);
  if (filter.afterId !== undefined) query.where('id', '>', filter.afterId);
  return (await query).map(toTenant);
}

function toTenant(row: Record<string, unknown>): Tenant {
  return {
    id: row.id as string,
    name: row.name as string,
    status: row.status as TenantStatus,
    config: row.config as Record<string, unknown>,
    createdAt: (row.created_at as Date).toISOString(),
    updatedAt: (row.updated_at as Date).toISOString(),
  };
}

/** Whether the tenant exists and is active. */
export async function isTenantActive(db: Db, id: string): Promise<boolean> {
  return (await readTenantAccess(db, id)).active;
}

/**
 * Whether the tenant exists and is active, and its own API request rate
 * (`settings.limits.requestsPerSecond`; null: the operator's default), in one read.
 */
export async function readTenantAccess(
  db: Db,
  id: string,
): Promise<{ active: boolean; requestsPerSecond: number | null }> {
  const row = await db('tenants')
    .where({ id })
    .first<{ status: TenantStatus; rate: unknown } | undefined>(
      'status',
      db.raw("settings -> 'limits' -> 'requestsPerSecond' as rate"),
    );
  const rate = row?.rate;
  return {
    active: row?.status === 'active',
    requestsPerSecond: typeof rate === 'number' && Number.isInteger(rate) && rate >= 0 ? rate : null,
  };
}
