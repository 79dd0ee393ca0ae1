import { describe, expect, it } from 'vitest';
import { recordAudit } from '../../engine/db/audit.ts';
import { verifyAudit } from '../../engine/db/audit-chain.ts';
import { migrateDown, migrateUp } from '../../engine/db/migrate.ts';
import { useTestDatabase } from '../helpers/db.ts';

const t = useTestDatabase();

describe('migration 150', () => {
  it('chains the rows written before it, and rolls back', async () => {
    await t.db('tenants').insert({ id: 'acme', name: 'Acme' });
    await recordAudit(t.db, { tenantId: 'acme', actor: 'a', action: 'x.y', entityType: 'x', result: 'ok' });
    // Later migrations are rolled back first, down to and including 150.
    let undone: string[] = [];
    while (!undone.some((name) => name.startsWith('150_'))) {
      undone = await migrateDown(t.db);
      if (undone.length === 0) throw new Error('migration 150 was never applied');
    }
    expect(await t.db.schema.hasColumn('audit_log', 'hash')).toBe(false);
    // Rows as the engine wrote them before the chain: the database's clock, microseconds and all.
    await t.db('audit_log').insert([
      { tenant_id: 'acme', actor: 'b', action: 'x.y', entity_type: 'x', result: 'ok', summary: { n: 1.5 } },
      { tenant_id: null, actor: 'op', action: 'tenants.create', entity_type: 'tenant', result: 'ok' },
      { tenant_id: 'acme', actor: 'c', action: 'x.y', entity_type: 'x', result: 'error', status: 500 },
    ]);
    await migrateUp(t.db, t.url);
    await recordAudit(t.db, { tenantId: 'acme', actor: 'd', action: 'x.y', entityType: 'x', result: 'ok' });
    const reports = await verifyAudit(t.db);
    expect(reports.map((r) => [r.tenantId, r.ok, r.rows])).toEqual([
      [null, true, 1],
      ['acme', true, 4],
    ]);
  });
});
