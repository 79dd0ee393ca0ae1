import type { Knex } from 'knex';

/** Migration 221's function, its candidates in `order` before the limit ('' for none). */
async function define(knex: Knex, order: string): Promise<void> {
  const { rows } = await knex.raw<{ rows: Array<{ schema: string }> }>('select current_schema() as schema');
  const schema = rows[0]!.schema.replace(/"/g, '""');
  await knex.raw(`
    create or replace function kb_text_candidates(query tsquery, n integer, filter jsonb) returns setof bigint
    language plpgsql stable security definer set search_path = pg_catalog, "${schema}" as $$
    begin
      return query execute
        'select c.id
           from kb_chunks c join kb_documents d on d.id = c.document_id
          where c.tenant_id = $1 and d.tenant_id = $1 and d.status = ''ready'' and c.tsv @@ $2
            and ($3::jsonb is null or d.metadata @> $3)${order}
          limit greatest($4, 0)'
        using current_setting('app.tenant_id', true), query, filter, n;
    end $$`);
}

/**
 * The full-text candidates of a word found in most chunks are bounded (the caller reads and
 * ranks each one), and were the first the scan met: with PostgreSQL's synchronized sequential
 * scans, a scan starts where another one is, so the same query answered different chunks from
 * one call to the next. They are now the newest chunks holding the words (by id, descending):
 * the same every time, and the latest versions first. The planner still picks per query (the
 * function plans each call with its actual tsquery): the primary key backwards, stopping after
 * `n` matches, for a common word; the GIN index and a top-n sort for a rare one.
 */
export async function up(knex: Knex): Promise<void> {
  await define(knex, ' order by c.id desc');
}

export async function down(knex: Knex): Promise<void> {
  await define(knex, '');
}
