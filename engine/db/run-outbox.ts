/**
 * The run outbox: runs committed with `dispatched = false` get their queue jobs here, many
 * at once, so a burst of triggers costs one NOTIFY instead of one each.
 *
 * Fair order: each tenant with undispatched runs gets at most the room under its limit of
 * runs in flight (dispatched and `running`, or `queued` outside a concurrency group: a run
 * queued in a group may be waiting for the group's slot, and its group limits it), and each
 * job's queue priority is the tenant's place in line (its runs in flight before it), so a
 * tenant's first run goes ahead of another tenant's backlog. Runs over a limit stay here, durable, until a slot frees.
 */
import type { Knex } from 'knex';
import { addRunJobsSql } from './queue.ts';

export interface DispatchResult {
  /** Runs handed to the queue. */
  moved: number;
  /** Whether a tenant's limit held runs back: a run that ends should dispatch again. */
  held: boolean;
}

/** The tenant's own limit (`settings.limits.runsInFlight`), else the default (`:inFlight`). */
const LIMIT = `coalesce(case when jsonb_typeof(t.settings -> 'limits' -> 'runsInFlight') = 'number'
  then least(greatest(floor((t.settings -> 'limits' ->> 'runsInFlight')::numeric), 0), 1000000)::int end, :inFlight)`;

/**
 * Tenants are found by a skip scan (one index probe per tenant with undispatched runs,
 * however long its backlog); each tenant's runs in flight are counted through a partial
 * index; the runs are marked through the primary key (`= any(array)`: a join with the
 * picked rows made the planner scan the whole table). `for update skip locked`: processes
 * never hand the same run over twice.
 */
export const DISPATCH_SQL = `
with recursive pending(tenant_id) as (
  (select tenant_id from workflow_runs where not dispatched order by tenant_id limit 1)
  union all
  select (select r.tenant_id from workflow_runs r
           where not r.dispatched and r.tenant_id > p.tenant_id order by r.tenant_id limit 1)
    from pending p where p.tenant_id is not null
), room as (
  select p.tenant_id, f.n as in_flight, greatest(0, ${LIMIT} - f.n) as free
    from pending p join tenants t on t.id = p.tenant_id
    cross join lateral (select count(*)::int as n from workflow_runs r
                         where r.tenant_id = p.tenant_id and r.dispatched
                           and (r.status = 'running' or (r.status = 'queued' and r.concurrency_key is null))) f
), locked as (
  select c.id, c.tenant_id, c.created_at, room.in_flight
    from room cross join lateral (
      select r.id, r.tenant_id, r.created_at from workflow_runs r
       where r.tenant_id = room.tenant_id and not r.dispatched
       order by r.created_at limit least(room.free, :limit) for update skip locked) c
), ranked as (
  select id, tenant_id, in_flight + row_number() over (partition by tenant_id order by created_at) - 1 as place
    from locked
), picked as (
  select id, tenant_id, place from ranked order by place, id limit :limit
), marked as (
  update workflow_runs r set dispatched = true
   where r.id = any (array(select id from picked)) returning r.id
), jobs as (
  select p.id, p.tenant_id, least(p.place, 32767)::int as priority from marked m join picked p on p.id = m.id
), queued as (
  ${addRunJobsSql('jobs', 'priority')}
)
select (select count(*) from marked)::int as moved, (select n from queued) as jobs,
       exists (select 1 from room where free <= (select count(*) from picked where picked.tenant_id = room.tenant_id)) as held`;

/**
 * Marks up to `limit` committed, undispatched runs dispatched and adds their queue jobs, in
 * one statement, in the fair order above; `inFlight` is the default limit per tenant.
 */
export async function dispatchRuns(db: Knex, limit: number, inFlight: number): Promise<DispatchResult> {
  const { rows } = await db.raw<{ rows: Array<{ moved: number; held: boolean }> }>(DISPATCH_SQL, {
    limit,
    inFlight,
  });
  return { moved: rows[0]?.moved ?? 0, held: rows[0]?.held ?? false };
}
