/**
 * Row-level security: the second wall of tenant isolation, behind the `tenant_id` filter
 * every query carries anyway.
 *
 * The engine connects as the schema owner. Work done for one tenant runs in
 * {@link withTenant}: a transaction that switches to the `atlas_app` role (not the owner,
 * not a superuser, so policies apply) and sets `app.tenant_id`, which every tenant table's
 * policy compares its `tenant_id` with. A query that forgets its tenant filter still sees only
 * that tenant's rows; with no `app.tenant_id` it sees none.
 *
 * Migrations call {@link enableTenantRls} for each table that holds tenant data.
 */
import type { Knex } from 'knex';
import pg from 'pg';

/** The role tenant-scoped work runs as. NOLOGIN: reachable only through SET ROLE. */
export const APP_ROLE = 'atlas_app';

/** The transaction-local setting the policies read. */
const TENANT_SETTING = 'app.tenant_id';

export type Privilege = 'select' | 'insert' | 'update' | 'delete';

export interface TenantRlsOptions {
  /** The column holding the tenant id; `tenant_id` unless the table is `tenants` itself. */
  column?: string;
  /** What `atlas_app` may do with the table; all four by default. */
  privileges?: Privilege[];
}

/**
 * Creates `atlas_app` if it is missing and lets the current (migrating, engine) user SET ROLE
 * to it. Roles are cluster-wide, so two databases migrating at once may race to create it:
 * the loser's error is swallowed.
 */
export async function ensureAppRole(knex: Knex): Promise<void> {
  await knex.raw(`
    do $$
    begin
      if not exists (select 1 from pg_roles where rolname = '${APP_ROLE}') then
        create role ${APP_ROLE} nologin;
      end if;
    exception when duplicate_object or unique_violation then null;
    end $$;
  `);
  await knex.raw(`grant ${APP_ROLE} to current_user`).catch((err: unknown) => {
    // A superuser (the embedded database, the tests) holds every role already; PostgreSQL 16+
    // refuses to grant a role to its own admin in some setups. Membership is what matters.
    if ((err as { code?: string }).code !== '0LP01') throw err;
  });
  await knex.raw(`grant usage on schema public to ${APP_ROLE}`);
}

/**
 * Turns on row-level security for a tenant table, forced so that the table's owner is held
 * to a policy too, and grants `atlas_app` the privileges it needs (with the sequences of
 * serial columns when it may insert).
 *
 * Two policies: `tenant_isolation` (any role: rows of the tenant in `app.tenant_id`, read
 * and written) and `platform_access` for the user running the migration, which is the
 * engine's own login. The engine needs cross-tenant access for platform work (the worker
 * claims any tenant's job, operators manage tenants); tenant requests never run as it:
 * they run in {@link withTenant} as `atlas_app`, which only the first policy admits.
 */
export async function enableTenantRls(knex: Knex, table: string, opts: TenantRlsOptions = {}): Promise<void> {
  const column = opts.column ?? 'tenant_id';
  const privileges = opts.privileges ?? ['select', 'insert', 'update', 'delete'];
  await ensureAppRole(knex);
  await knex.raw('alter table ?? enable row level security', [table]);
  await knex.raw('alter table ?? force row level security', [table]);
  await knex.raw(
    `create policy tenant_isolation on ?? using (?? = current_setting('${TENANT_SETTING}', true)) with check (?? = current_setting('${TENANT_SETTING}', true))`,
    [table, column, column],
  );
  await knex.raw('create policy platform_access on ?? to current_user using (true) with check (true)', [
    table,
  ]);
  if (privileges.length > 0) {
    await knex.raw(`grant ${privileges.join(', ')} on ?? to ${APP_ROLE}`, [table]);
  }
  if (privileges.includes('insert')) {
    for (const sequence of await ownedSequences(knex, table)) {
      await knex.raw(`grant usage, select on sequence ?? to ${APP_ROLE}`, [sequence]);
    }
  }
}

/** Undoes {@link enableTenantRls} (for a migration's `down`). */
export async function disableTenantRls(knex: Knex, table: string): Promise<void> {
  await knex.raw('drop policy if exists tenant_isolation on ??', [table]);
  await knex.raw('drop policy if exists platform_access on ??', [table]);
  await knex.raw('alter table ?? no force row level security', [table]);
  await knex.raw('alter table ?? disable row level security', [table]);
  await knex.raw(`revoke all on ?? from ${APP_ROLE}`, [table]);
}

/** Sequences behind a table's serial and identity columns. */
async function ownedSequences(knex: Knex, table: string): Promise<string[]> {
  const { rows } = await knex.raw<{ rows: Array<{ name: string }> }>(
    `select s.relname as name
       from pg_class s
       join pg_depend d on d.objid = s.oid and d.classid = 'pg_class'::regclass
       join pg_class t on t.oid = d.refobjid
      where s.relkind = 'S' and t.oid = ?::regclass`,
    [table],
  );
  return rows.map((r) => r.name);
}

/**
 * Runs `fn` in a transaction as `atlas_app` with `app.tenant_id` set: every statement inside
 * is held to the tenant policies. Both settings are LOCAL, so they end with the transaction
 * and a pooled connection never carries one tenant's scope into another's work.
 */
export async function withTenant<T>(
  db: Knex,
  tenantId: string,
  fn: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  if (tenantId === '') throw new Error('withTenant: the tenant id is empty');
  return db.transaction(async (trx) => {
    // `role` is the setting SET ROLE changes: both are transaction-local, in one round trip.
    await trx.raw(`select set_config('role', '${APP_ROLE}', true), set_config(?, ?, true)`, [
      TENANT_SETTING,
      tenantId,
    ]);
    return fn(trx);
  });
}

/** A read for {@link readAsTenant}: SQL with `$1`, `$2`, ... and its values. */
export interface TenantRead {
  sql: string;
  values: ReadonlyArray<TenantReadValue>;
}

/** What a read may carry: text, finite numbers, and instants (sent as ISO 8601 text). */
export type TenantReadValue = string | number | Date;

/**
 * Reads as {@link withTenant} does, in one round trip: the role switch, the tenant setting
 * and every statement go as one simple-protocol message, which PostgreSQL runs as one
 * implicit transaction (so both settings stay local to it, also through a transaction-mode
 * pooler). Simple protocol carries no parameters: values are inlined as escaped literals,
 * strings through the driver's `escapeLiteral`, numbers only when finite (the SQL itself
 * holds no `$` but its placeholders). Returns each statement's rows, in order.
 */
export async function readAsTenant(
  db: Knex,
  tenantId: string,
  reads: readonly TenantRead[],
): Promise<unknown[][]> {
  if (tenantId === '' || reads.length === 0) throw new Error('readAsTenant: no tenant or nothing to read');
  const text = [
    `select set_config('role', '${APP_ROLE}', true), set_config('${TENANT_SETTING}', ${literal(tenantId)}, true)`,
    ...reads.map((r) => inline(r.sql, r.values)),
  ].join(';\n');
  // knex.raw reads `?` as a placeholder, even inside a literal; `\\?` is its escape for `?`.
  const results = (await db.raw(text.replaceAll('?', '\\?'))) as unknown as Array<{ rows: unknown[] }>;
  return results.slice(1).map((r) => r.rows);
}

function literal(value: TenantReadValue): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new Error('readAsTenant: an invalid date');
    return pg.escapeLiteral(value.toISOString());
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('readAsTenant: a number that is not finite');
    return String(value);
  }
  return pg.escapeLiteral(value);
}

/** Replaces `$n` with the n-th value as a literal; a placeholder without a value throws. */
function inline(sql: string, values: ReadonlyArray<TenantReadValue>): string {
  return sql.replace(/\$(\d+)/g, (_, n: string) => {
    const value = values[Number(n) - 1];
    if (value === undefined) throw new Error(`readAsTenant: no value for $${n}`);
    return literal(value);
  });
}
