/**
 * readAsTenant: a tenant read in one round trip (role, tenant setting and statements in one
 * simple-protocol message). Through PgBouncer in transaction mode in the `pgbouncer` project.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countQueries } from '../../engine/db/query-counter.ts';
import { readAsTenant } from '../../engine/db/rls.ts';
import { useTestDatabase } from '../helpers/db.ts';

const database = useTestDatabase();

beforeAll(async () => {
  await database.db('tenants').insert([
    { id: 'acme', name: 'Acme' },
    { id: 'globex', name: 'Globex' },
  ]);
});

afterAll(async () => {
  await database.db('tenants').whereIn('id', ['acme', 'globex']).delete();
});

describe('readAsTenant', () => {
  it('reads as atlas_app with the tenant set, in one round trip, and row-level security applies', async () => {
    const counter = countQueries(database.db);
    const [who, tenants] = await readAsTenant(database.db, 'acme', [
      { sql: "select current_user as role, current_setting('app.tenant_id', true) as tenant", values: [] },
      // No tenant filter: the policy alone keeps globex out.
      { sql: 'select id from tenants order by id', values: [] },
    ]);
    counter.stop();
    expect(who).toEqual([{ role: 'atlas_app', tenant: 'acme' }]);
    expect(tenants).toEqual([{ id: 'acme' }]);
    expect(counter.counts()).toEqual({ roundTrips: 1, statements: 3, commits: 1 });
  });

  it('leaves nothing behind on the connection for the next transaction', async () => {
    await readAsTenant(database.db, 'acme', [{ sql: 'select 1', values: [] }]);
    const after = await Promise.all(
      Array.from({ length: 5 }, () =>
        database.db.raw<{ rows: Array<{ role: string; tenant: string | null }> }>(
          "select current_user as role, current_setting('app.tenant_id', true) as tenant",
        ),
      ),
    );
    for (const { rows } of after) {
      expect(rows[0]!.role).not.toBe('atlas_app');
      expect(rows[0]!.tenant ?? '').toBe('');
    }
  });

  it('inlines hostile values as exact literals', async () => {
    const hostile = [
      "x'; set role postgres; select '",
      'back\\slash \\x27 and $1 and ? and ?? and ; --',
      'dollar $$ quoted $$ and a \u00e9 and an emoji \u{1f600}',
    ];
    for (const value of hostile) {
      const [rows] = await readAsTenant(database.db, 'acme', [
        { sql: 'select $1::text as v, $2::int as n', values: [value, 42] },
      ]);
      expect(rows).toEqual([{ v: value, n: 42 }]);
    }
  });

  it('sends an instant as its ISO 8601 text and refuses an invalid one', async () => {
    const at = new Date('2026-03-04T05:06:07.089Z');
    const [rows] = await readAsTenant(database.db, 'acme', [
      {
        sql: 'select $1::timestamptz as at, $1::timestamptz > $2::timestamptz as later',
        values: [at, new Date(0)],
      },
    ]);
    expect(rows).toEqual([{ at, later: true }]);
    await expect(
      readAsTenant(database.db, 'acme', [{ sql: 'select $1', values: [new Date(Number.NaN)] }]),
    ).rejects.toThrow(/invalid date/);
  });

  it('a hostile tenant id is a literal the policies match nothing with', async () => {
    const [rows] = await readAsTenant(database.db, "acme' or true --", [
      { sql: 'select id from tenants', values: [] },
    ]);
    expect(rows).toEqual([]);
  });

  it('refuses a placeholder without a value and a number that is not finite', async () => {
    await expect(readAsTenant(database.db, 'acme', [{ sql: 'select $2', values: ['a'] }])).rejects.toThrow(
      /no value for \$2/,
    );
    await expect(
      readAsTenant(database.db, 'acme', [{ sql: 'select $1', values: [Number.NaN] }]),
    ).rejects.toThrow(/not finite/);
  });
});
