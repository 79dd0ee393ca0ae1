/**
 * The run outbox: runs committed with `dispatched = false` get their queue jobs here, many
 * at once, so a burst of triggers costs one NOTIFY instead of one each.
 */
import type { Knex } from 'knex';
import { addRunJobsSql } from './queue.ts';

/**
 * Marks up to `limit` committed, undispatched runs dispatched and adds their queue jobs, in
 * one statement (`for update skip locked`: processes never hand the same run over twice).
 * Returns how many runs it moved.
 */
export async function dispatchRuns(db: Knex, limit: number): Promise<number> {
  const { rows } = await db.raw<{ rows: Array<{ moved: number }> }>(
    `with picked as (
       select id from workflow_runs where not dispatched order by created_at limit ? for update skip locked
     ), marked as (
       update workflow_runs r set dispatched = true from picked where r.id = picked.id
       returning r.id, r.tenant_id
     ), queued as (
       ${addRunJobsSql('marked')}
     )
     select (select count(*) from marked)::int as moved, (select n from queued) as jobs`,
    [limit],
  );
  return rows[0]?.moved ?? 0;
}
