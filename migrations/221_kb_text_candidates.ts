import type { Knex } from 'knex';
import { APP_ROLE } from '../engine/db/rls.ts';

/**
 * Full-text candidates of the knowledge base for the tenant of the session. Under row-level
 * security PostgreSQL will not evaluate a non-leakproof operator such as `@@` in an index scan
 * ahead of the policy, so `atlas_app` searched every chunk of every tenant sequentially. This
 * function runs as the owner, which the GIN index serves, and takes the tenant from the
 * session's `app.tenant_id` (set by withTenant), never from an argument: no session tenant, no
 * rows. The caller ranks and reads the chunks it returns under row-level security as before.
 */
export async function up(knex: Knex): Promise<void> {
  const { rows } = await knex.raw<{ rows: Array<{ schema: string }> }>('select current_schema() as schema');
  const schema = rows[0]!.schema;
  // PL/pgSQL's EXECUTE plans each call with the actual query: the planner then sees how common
  // its words are (a word in most chunks is read by a short sequential scan under the limit,
  // a rare one through the index), which a plan made once for any tsquery cannot.
  await knex.raw(`
    create function kb_text_candidates(query tsquery, n integer, filter jsonb) returns setof bigint
    language plpgsql stable security definer set search_path = pg_catalog, "${schema.replace(/"/g, '""')}" as $$
    begin
      return query execute
        'select c.id
           from kb_chunks c join kb_documents d on d.id = c.document_id
          where c.tenant_id = $1 and d.tenant_id = $1 and d.status = ''ready'' and c.tsv @@ $2
            and ($3::jsonb is null or d.metadata @> $3)
          limit greatest($4, 0)'
        using current_setting('app.tenant_id', true), query, filter, n;
    end $$`);
  await knex.raw('revoke all on function kb_text_candidates(tsquery, integer, jsonb) from public');
  await knex.raw(`grant execute on function kb_text_candidates(tsquery, integer, jsonb) to ${APP_ROLE}`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function kb_text_candidates(tsquery, integer, jsonb)');
}
