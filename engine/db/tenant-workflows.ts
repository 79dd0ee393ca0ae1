/**
 * Queries of `tenant_workflows`: whether a tenant has a workflow enabled, and the
 * tenant-writable configuration its templates read as `tenant.config`.
 */
import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export interface WorkflowStateRow {
  enabled: boolean;
  config: Record<string, unknown>;
}

/** The tenant's state of the workflow; disabled with no configuration when never set. */
export async function getWorkflowState(
  db: Db,
  tenantId: string,
  workflowId: string,
): Promise<WorkflowStateRow> {
  const row = await db('tenant_workflows')
    .where({ tenant_id: tenantId, workflow_id: workflowId })
    .first('enabled', 'config');
  return { enabled: row?.enabled ?? false, config: row?.config ?? {} };
}

export async function putWorkflowState(
  db: Db,
  tenantId: string,
  workflowId: string,
  state: WorkflowStateRow,
): Promise<void> {
  const config = JSON.stringify(state.config);
  await db('tenant_workflows')
    .insert({ tenant_id: tenantId, workflow_id: workflowId, enabled: state.enabled, config })
    .onConflict(['tenant_id', 'workflow_id'])
    .merge({ enabled: state.enabled, config, updated_at: db.fn.now() });
}

/** Which of these workflows the tenant has enabled. */
export async function enabledWorkflows(
  db: Db,
  tenantId: string,
  workflowIds: string[],
): Promise<Set<string>> {
  const rows = await db('tenant_workflows')
    .where({ tenant_id: tenantId, enabled: true })
    .whereIn('workflow_id', workflowIds)
    .select<Array<{ workflow_id: string }>>('workflow_id');
  return new Set(rows.map((r) => r.workflow_id));
}

/** The active tenants that have the workflow enabled. */
export async function tenantsRunning(db: Db, workflowId: string): Promise<string[]> {
  const rows = await db('tenant_workflows as w')
    .join('tenants as t', 't.id', 'w.tenant_id')
    .where({ 'w.workflow_id': workflowId, 'w.enabled': true, 't.status': 'active' })
    .select<Array<{ tenant_id: string }>>('w.tenant_id');
  return rows.map((r) => r.tenant_id);
}

/** A tenant's name and configuration merged with its configuration of the workflow. */
export async function tenantScope(
  db: Db,
  tenantId: string,
  workflowId: string,
): Promise<{ id: string; name: string; config: Record<string, unknown> } | undefined> {
  const row = await db('tenants as t')
    .leftJoin('tenant_workflows as w', function () {
      this.on('w.tenant_id', 't.id').andOn('w.workflow_id', db.raw('?', [workflowId]));
    })
    .where('t.id', tenantId)
    .first<{
      id: string;
      name: string;
      config: Record<string, unknown>;
      wf_config: Record<string, unknown> | null;
    }>('t.id', 't.name', 't.config', 'w.config as wf_config');
  if (!row) return undefined;
  return { id: row.id, name: row.name, config: { ...row.config, ...(row.wf_config ?? {}) } };
}
