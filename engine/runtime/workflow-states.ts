/**
 * Workflows as a tenant sees them: enabled or not (chosen, or on by default), its config,
 * what each needs and why a trigger would skip it now.
 */
import { withTenant } from '../db/rls.ts';
import { getWorkflowState, putWorkflowState, workflowChoices } from '../db/tenant-workflows.ts';
import { lastSkips, loadHoldings } from '../db/workflow-skips.ts';
import { describeRequirements } from '../manifest/requirements.ts';
import type { WorkflowState, WorkflowStatus } from './api.ts';
import type { Core } from './core.ts';
import { isDefaultOn } from './defaults.ts';
import { RuntimeError } from './errors.ts';
import type { InputSchemas } from './trigger.ts';

export function workflowState(core: Core, tenantId: string, workflowId: string): Promise<WorkflowState> {
  const entry = core.deps.catalogue.workflow(workflowId);
  const byDefault = entry !== undefined && isDefaultOn(entry.manifest);
  return withTenant(core.deps.db, tenantId, (trx) => getWorkflowState(trx, tenantId, workflowId, byDefault));
}

export function workflowStatuses(core: Core, tenantId: string): Promise<Map<string, WorkflowStatus>> {
  return withTenant(core.deps.db, tenantId, async (trx) => {
    const rows = await workflowChoices(trx, tenantId);
    const byId = new Map(rows.map((r) => [r.workflow_id, r]));
    const held = (await loadHoldings(trx, [tenantId])).get(tenantId)!;
    const skips = await lastSkips(trx, tenantId);
    const out = new Map<string, WorkflowStatus>();
    for (const entry of core.deps.catalogue.workflows()) {
      const id = entry.manifest.id;
      const row = byId.get(id);
      const byDefault = isDefaultOn(entry.manifest);
      const missing = byDefault && !row ? core.gate.missing(entry, held) : undefined;
      const lastSkip = skips.get(id);
      out.set(id, {
        enabled: row?.enabled ?? byDefault,
        config: row?.config ?? {},
        chosen: row !== undefined,
        byDefault,
        requirements: describeRequirements(core.gate.requirements(entry)),
        ...(missing === undefined ? {} : { missing }),
        ...(lastSkip === undefined ? {} : { lastSkip }),
      });
    }
    return out;
  });
}

export async function setWorkflowState(
  core: Core,
  inputs: InputSchemas,
  tenantId: string,
  workflowId: string,
  state: Partial<WorkflowState>,
): Promise<WorkflowState> {
  const { db, catalogue } = core.deps;
  const entry = catalogue.workflow(workflowId);
  if (!entry) throw new RuntimeError('unknown_workflow', `There is no workflow ${workflowId}.`);
  const current = await getWorkflowState(db, tenantId, workflowId, isDefaultOn(entry.manifest));
  const next = { enabled: state.enabled ?? current.enabled, config: state.config ?? current.config };
  // A disabled workflow may keep an incomplete config; one that runs must fit the schema.
  if (next.enabled) inputs.checkConfig(entry, next.config);
  await putWorkflowState(db, tenantId, workflowId, next);
  return next;
}
