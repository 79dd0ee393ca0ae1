/**
 * Queries of `workflow_skips`: why a default-on workflow did not run for a tenant (one row per
 * tenant and workflow, the latest reason and a count), and what a tenant holds that default-on
 * workflows may need (its secret names and connected integrations).
 */
import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export interface Holdings {
  secrets: ReadonlySet<string>;
  integrations: ReadonlySet<string>;
}

export interface Skip {
  tenantId: string;
  workflowId: string;
  reason: string;
  trigger: string;
}

export interface LastSkip {
  reason: string;
  trigger: string;
  at: string;
  count: number;
}

/** The secret names and connected integrations of each tenant, in two statements. */
export async function loadHoldings(db: Db, tenantIds: readonly string[]): Promise<Map<string, Holdings>> {
  const out = new Map<string, { secrets: Set<string>; integrations: Set<string> }>();
  if (tenantIds.length === 0) return out;
  for (const id of tenantIds) out.set(id, { secrets: new Set(), integrations: new Set() });
  const [secrets, integrations] = await Promise.all([
    db('tenant_secrets')
      .whereIn('tenant_id', tenantIds)
      .select<Array<{ tenant_id: string; name: string }>>('tenant_id', 'name'),
    db('integrations')
      .whereIn('tenant_id', tenantIds)
      .where({ status: 'connected' })
      .select<Array<{ tenant_id: string; provider: string }>>('tenant_id', 'provider'),
  ]);
  for (const s of secrets) out.get(s.tenant_id)?.secrets.add(s.name);
  for (const i of integrations) out.get(i.tenant_id)?.integrations.add(i.provider);
  return out;
}

/** Keeps the latest reason of each skipped tenant and workflow, and counts them. */
export async function recordSkips(db: Db, skips: readonly Skip[]): Promise<void> {
  if (skips.length === 0) return;
  await db.raw(
    `insert into workflow_skips (tenant_id, workflow_id, reason, trigger, skipped_at, count)
     select s.tenant_id, s.workflow_id, s.reason, s.trigger, now(), 1
       from jsonb_to_recordset(?::jsonb) as s(tenant_id text, workflow_id text, reason text, trigger text)
     on conflict (tenant_id, workflow_id) do update
       set reason = excluded.reason, trigger = excluded.trigger, skipped_at = excluded.skipped_at,
           count = workflow_skips.count + 1`,
    [JSON.stringify(skips.map((s) => ({ ...s, tenant_id: s.tenantId, workflow_id: s.workflowId })))],
  );
}

/** The latest skip of each workflow for this tenant. */
export async function lastSkips(db: Db, tenantId: string): Promise<Map<string, LastSkip>> {
  const rows = await db('workflow_skips')
    .where({ tenant_id: tenantId })
    .select<Array<{ workflow_id: string; reason: string; trigger: string; skipped_at: Date; count: number }>>(
      'workflow_id',
      'reason',
      'trigger',
      'skipped_at',
      'count',
    );
  return new Map(
    rows.map((r) => [
      r.workflow_id,
      {
        reason: r.reason,
        trigger: r.trigger,
        at: new Date(r.skipped_at).toISOString(),
        count: Number(r.count),
      },
    ]),
  );
}
