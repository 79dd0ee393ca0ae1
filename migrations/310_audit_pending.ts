import type { Knex } from 'knex';
import { disableTenantRls, enableTenantRls } from '../engine/db/rls.ts';

/**
 * Audit entries waiting for their chain. An API write records its entry here, in the
 * transaction that makes the change (no chain head is locked there, so one tenant's
 * concurrent writes commit together instead of one after another); right after the commit a
 * group-committed batch moves every waiting entry into `audit_log` through `audit_append`,
 * one head update per tenant for the whole batch. Entries a crashed process left here are
 * taken by the next batch of any process once they are a few seconds old.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`create table audit_pending (
    id bigint generated always as identity primary key,
    tenant_id text,
    entry jsonb not null,
    created_at timestamptz not null default now()
  )`);
  await knex.raw('create index audit_pending_created on audit_pending (created_at)');
  await enableTenantRls(knex, 'audit_pending', { privileges: ['insert'] });

  // The request's side: the entries as `audit_append` takes them; returns their ids.
  await knex.raw(`
    create function audit_defer(entries jsonb) returns setof bigint language sql as $$
      insert into audit_pending (tenant_id, entry)
      select t.x->>'tenant_id', t.x from jsonb_array_elements(entries) with ordinality as t(x, ord)
       order by t.ord
      returning id
    $$`);

  // The batch's side: the given entries and any left behind for `stale`, in the order they
  // were recorded, chained in one statement. Rows another batch holds are skipped, never waited
  // for (it is chaining them), so two batches cannot deadlock on them. It commits without
  // waiting for the disk: its entries were durable in audit_pending already, and a crash that
  // loses the batch loses the move as a whole (the head with it), which a later batch redoes.
  // A head handed out (verify, anchor) is read only once it is on disk (chainFlushed).
  await knex.raw(`
    create function audit_chain_pending(ids bigint[], stale interval) returns bigint language plpgsql as $$
    declare
      moved jsonb;
      n bigint;
    begin
      perform set_config('synchronous_commit', 'off', true);
      with picked as (
        select id from audit_pending
         where id = any(ids) or created_at < now() - stale
         order by id limit 5000
           for update skip locked
      ), gone as (
        delete from audit_pending p using picked where p.id = picked.id returning p.id, p.entry
      )
      select jsonb_agg(entry order by id), count(*) into moved, n from gone;
      if n > 0 then
        perform audit_append(moved);
      end if;
      return n;
    end $$`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function audit_chain_pending(bigint[], interval)');
  await knex.raw('drop function audit_defer(jsonb)');
  await disableTenantRls(knex, 'audit_pending');
  await knex.raw('drop table audit_pending');
}
