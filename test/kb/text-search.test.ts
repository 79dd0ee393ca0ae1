/**
 * Full-text search as the tenant (`atlas_app`, row-level security on): PostgreSQL refuses to
 * evaluate a non-leakproof operator such as `@@` inside an index scan ahead of a row-level
 * security policy, so the candidates are gathered by `kb_text_candidates`, which runs as the
 * owner and takes the tenant from the session, never from its arguments. The GIN index serves
 * the search, and a tenant still sees only its own chunks.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { searchText } from '../../engine/db/kb-search.ts';
import { withTenant } from '../../engine/db/rls.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { poll } from '../helpers/poll.ts';

const database = useTestDatabase();
const doc = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

beforeAll(async () => {
  const { db } = database;
  await db('tenants').insert([
    { id: 'acme', name: 'Acme' },
    { id: 'globex', name: 'Globex' },
  ]);
  await db('kb_documents').insert([
    { id: doc(1), tenant_id: 'acme', source_type: 'text', source_key: 'filler', status: 'ready' },
    { id: doc(2), tenant_id: 'globex', source_type: 'text', source_key: 'secret', status: 'ready' },
  ]);
  // Enough chunks that a sequential scan would be the planner's choice only when forced to.
  await db.raw(
    `insert into kb_chunks (document_id, tenant_id, ordinal, text, token_count)
     select ?, 'acme', i, 'ordinary words about invoices, parcels, refunds, shipping and the warehouse, number '
                          || i || ' of many, written to fill the page', 20
       from generate_series(0, 19999) i`,
    [doc(1)],
  );
  await db('kb_chunks').insert([
    {
      document_id: doc(1),
      tenant_id: 'acme',
      ordinal: 20000,
      text: 'The zebrafish tank is cleaned weekly.',
      token_count: 8,
    },
    {
      document_id: doc(2),
      tenant_id: 'globex',
      ordinal: 0,
      text: 'Globex zebrafish research is secret.',
      token_count: 7,
    },
  ]);
  await db.raw('analyze kb_chunks');
  await db.raw('analyze kb_documents');
});

const indexScans = async (): Promise<number> => {
  const { rows } = await database.db.raw<{ rows: Array<{ n: string }> }>(
    `select idx_scan::text as n from pg_stat_user_indexes where indexrelname = 'kb_chunks_tsv'`,
  );
  return Number(rows[0]!.n);
};

describe('full-text search under row-level security', () => {
  it('is served by the GIN index, and finds only the tenant’s own chunks', async () => {
    const before = await indexScans();
    const found = await withTenant(database.db, 'acme', (trx) => searchText(trx, 'acme', 'zebrafish', 5));
    expect(found).toHaveLength(1);
    const text = await database.db('kb_chunks').where({ id: found[0]!.id }).first();
    expect(text.tenant_id).toBe('acme');
    await poll(async () => ((await indexScans()) > before ? true : undefined), 15_000);
  });

  it('answers in one statement: chunks holding every word first, then those holding the rarest', async () => {
    const { db } = database;
    const statements: string[] = [];
    const watch = (q: { sql: string }) => statements.push(q.sql);
    db.on('query', watch);
    let found: Awaited<ReturnType<typeof searchText>>;
    try {
      found = await withTenant(db, 'acme', async (trx) => {
        statements.length = 0; // the transaction's own set-up
        return searchText(trx, 'acme', 'zebrafish tank invoices refunds', 3);
      });
    } finally {
      db.off('query', watch);
    }
    expect(statements.filter((q) => !/^(commit|rollback)/i.test(q))).toHaveLength(1);
    expect(found).toHaveLength(3);
    const first = await db('kb_chunks').where({ id: found[0]!.id }).first();
    expect(first.text).toBe('The zebrafish tank is cleaned weekly.');
    // Chunks holding every word of a query come before any others.
    const both = await withTenant(db, 'acme', (trx) => searchText(trx, 'acme', 'zebrafish weekly', 2));
    expect(both[0]!.id).toBe(found[0]!.id);
    expect(both).toHaveLength(1);
  });

  it('bounds the candidates of a common word to the newest chunks holding it, the same every time', async () => {
    const { db } = database;
    const newest = await db('kb_chunks')
      .where({ tenant_id: 'acme' })
      .whereRaw(`tsv @@ to_tsquery('english', 'invoices')`)
      .orderBy('id', 'desc')
      .limit(25)
      .pluck('id');
    for (let i = 0; i < 3; i++) {
      const ids = await withTenant(db, 'acme', async (trx) => {
        const { rows } = await trx.raw<{ rows: Array<{ id: string }> }>(
          `select kb_text_candidates(to_tsquery('english', 'invoices'), 25, null)::text as id`,
        );
        return rows.map((r) => r.id);
      });
      expect(ids).toEqual(newest.map(String));
      // Another scan of the table between two searches changes nothing.
      await db.raw(`select count(*) from kb_chunks where text like '%never%'`);
    }
  });

  it('gathers candidates only for the tenant of the session, whatever the query asks', async () => {
    const { db } = database;
    const asTenant = (tenant: string) =>
      withTenant(db, tenant, async (trx) => {
        const { rows } = await trx.raw<{ rows: Array<{ id: string }> }>(
          `select kb_text_candidates(to_tsquery('english', 'zebrafish'), 10, null)::text as id`,
        );
        return rows.map((r) => r.id);
      });
    const acme = await asTenant('acme');
    const globex = await asTenant('globex');
    expect(acme).toHaveLength(1);
    expect(globex).toHaveLength(1);
    expect(acme[0]).not.toBe(globex[0]);
    // Without a tenant in the session: nothing.
    const none = await db.transaction(async (trx) => {
      await trx.raw(`select set_config('role', 'atlas_app', true)`);
      return (await trx.raw(`select kb_text_candidates(to_tsquery('english', 'zebrafish'), 10, null)`)).rows;
    });
    expect(none).toEqual([]);
  });
});
