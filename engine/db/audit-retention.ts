/**
 * Retention of the audit log: a payload is erased (its row and hash kept, so the chain
 * still verifies) once it is older than the operator's retention.
 */
import type { Knex } from 'knex';

/** Erases the payloads of entries older than `before` (of one tenant, or all); returns how many. */
export async function eraseAuditPayloads(
  db: Knex,
  before: Date,
  tenantId: string | undefined,
): Promise<number> {
  const query = db('audit_log').where('at', '<', before).whereNotNull('summary');
  if (tenantId !== undefined) query.where('tenant_id', tenantId);
  return query.update({ summary: null, erased_at: db.fn.now() });
}
