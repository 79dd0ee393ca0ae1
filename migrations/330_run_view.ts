import type { Knex } from 'knex';

/**
 * `run_view(tenant, run)`: the run view of `GET /v1/runs/:id` (the run, its step attempts,
 * its sub-workflow links both ways, its delivered signals) as one JSON value.
 *
 * Why a function: sent as SQL each time, these statements cost PostgreSQL more to plan than
 * to run (three correlated subqueries, policies on every table). PL/pgSQL keeps its plans for
 * the session, so a pooled connection plans them once; it works through a transaction-mode
 * pooler, which protocol-level prepared statements do not.
 *
 * Row-level security as for every tenant read: the function switches to `atlas_app` and sets
 * `app.tenant_id` (both local to the transaction), reads, and puts both back as they were.
 * It runs with the caller's rights otherwise (not SECURITY DEFINER), so it cannot read more
 * than the caller could read as the tenant.
 */
export async function up(knex: Knex): Promise<void> {
  const { rows } = await knex.raw<{ rows: Array<{ schema: string }> }>('select current_schema() as schema');
  const schema = rows[0]!.schema.replace(/"/g, '""');
  await knex.raw(`
    create function run_view(p_tenant text, p_run uuid) returns json
    language plpgsql volatile set search_path = pg_catalog, "${schema}" as $$
    declare
      previous_role text := current_setting('role');
      previous_tenant text := coalesce(current_setting('app.tenant_id', true), '');
      result json;
    begin
      if p_tenant is null or p_tenant = '' then
        raise exception 'run_view: no tenant';
      end if;
      perform set_config('role', 'atlas_app', true), set_config('app.tenant_id', p_tenant, true);
      select json_build_object(
               'run', to_json(r),
               'attempts', coalesce((select json_agg(s order by s.run_attempt, s.id) from step_runs s
                                      where s.tenant_id = r.tenant_id and s.run_id = r.id), '[]'::json),
               'called_by', (select json_build_object('runId', c.caller_run_id, 'stepId', c.caller_step_id)
                               from run_calls c where c.tenant_id = r.tenant_id and c.run_id = r.id),
               'calls', coalesce((select json_agg(json_build_object('runId', c.run_id, 'workflowId', w.workflow_id,
                                                                    'stepId', c.caller_step_id, 'status', w.status)
                                                  order by c.created_at, c.run_id)
                                    from run_calls c
                                    join workflow_runs w on w.tenant_id = c.tenant_id and w.id = c.run_id
                                   where c.tenant_id = r.tenant_id and c.caller_run_id = r.id), '[]'::json),
               'signals', coalesce((select json_agg(g order by g.id)
                                      from (select sg.*, s.step_id from run_signals sg
                                              join step_runs s on s.id = sg.step_run_id and s.tenant_id = sg.tenant_id
                                             where sg.tenant_id = r.tenant_id and sg.run_id = r.id) g), '[]'::json))
        into result
        from workflow_runs r
       where r.tenant_id = p_tenant and r.id = p_run;
      perform set_config('role', previous_role, true), set_config('app.tenant_id', previous_tenant, true);
      return result;
    end $$`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function run_view(text, uuid)');
}
