/**
 * A `workflow_runs` row for tests that write runs directly, below the engine: running and
 * claimed (lease epoch 1) unless `fields` say otherwise. Its manifest version must exist.
 */
export function runRow(
  id: string,
  tenantId: string,
  manifestHash: string,
  fields: Record<string, unknown> = {},
) {
  return {
    id,
    tenant_id: tenantId,
    workflow_id: 'WF-1',
    manifest_hash: manifestHash,
    status: 'running',
    input: {},
    trigger: { type: 'manual' },
    dispatched: true,
    lease_owner: 'p',
    lease_epoch: 1,
    ...fields,
  };
}
