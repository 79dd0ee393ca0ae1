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

export interface WorkflowChoice extends WorkflowStateRow {
  workflow_id: string;
}

/**
 * The tenant's state of the workflow; with no row, `chosen` is false and it is disabled (or,
 * when `byDefault`, enabled) with no configuration.
 */
export async function getWorkflowState(
  db: Db,
  tenantId: string,
  workflowId: string,
  byDefault = false,
): Promise<WorkflowStateRow & { chosen: boolean }> {
  const row = await db('tenant_workflows')
    .where({ tenant_id: tenantId, workflow_id: workflowId })
    .first('enabled', 'config');
  return { enabled: row?.enabled ?? byDefault, config: row?.config ?? {}, chosen: row !== undefined };
}

/** Every row the tenant has, enabled or not, optionally only of these workflows. */
export async function workflowChoices(
  db: Db,
  tenantId: string,
  workflowIds?: readonly string[],
): Promise<WorkflowChoice[]> {
  const query = db('tenant_workflows').where({ tenant_id: tenantId });
  if (workflowIds) query.whereIn('workflow_id', workflowIds);
  return query.select<WorkflowChoice[]>('workflow_id', 'enabled', 'config');
}

/** The active tenants with no row for the workflow (they chose nothing). */
export async function tenantsWithoutChoice(db: Db, workflowId: string): Promise<string[]> {
  const rows = await db('tenants as t')
    .leftJoin('tenant_workflows as w', function () {
      this.on('w.tenant_id', 't.id').andOnVal('w.workflow_id', workflowId);
    })
    .where('t.status', 'active')
    .whereNull('w.tenant_id')
    .select<Array<{ id: string }>>('t.id');
  return rows.map((r) => r.id);
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
