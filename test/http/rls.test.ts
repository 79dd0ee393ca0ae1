import { beforeAll, describe, expect, it } from 'vitest';
import { listAudit, recordAudit } from '../../engine/db/audit.ts';
import { withTenant } from '../../engine/db/rls.ts';
import { useTestDatabase } from '../helpers/db.ts';

const t = useTestDatabase();

describe('row-level security', () => {
  beforeAll(async () => {
    await t.db('tenants').insert([
      { id: 'acme', name: 'Acme' },
      { id: 'globex', name: 'Globex' },
    ]);
    await recordAudit(t.db, {
      tenantId: 'acme',
      actor: 'a',
      action: 'x.create',
      entityType: 'x',
      result: 'ok',
    });
    await recordAudit(t.db, {
      tenantId: 'globex',
      actor: 'g',
      action: 'x.create',
      entityType: 'x',
      result: 'ok',
    });
    await recordAudit(t.db, { actor: 'op', action: 'tenants.create', entityType: 'tenant', result: 'ok' });
  });

  it('a query missing its tenant filter sees only the scoped tenant', async () => {
    const rows = await withTenant(t.db, 'acme', (trx) => trx('audit_log').select('tenant_id', 'actor'));
    expect(rows).toEqual([{ tenant_id: 'acme', actor: 'a' }]);
    const tenants = await withTenant(t.db, 'globex', (trx) => trx('tenants').pluck('id'));
    expect(tenants).toEqual(['globex']);
  });

  it('sees nothing without a tenant and runs as atlas_app, not the owner', async () => {
    const result = await t.db.transaction(async (trx) => {
      await trx.raw('set local role atlas_app');
      return trx('audit_log').count<{ count: string }[]>('* as count');
    });
    expect(Number(result[0]?.count)).toBe(0);
    const who = await withTenant(t.db, 'acme', (trx) => trx.raw('select current_user as u'));
    expect(who.rows[0].u).toBe('atlas_app');
  });

  it('refuses to write another tenant row under a tenant scope', async () => {
    await expect(
      withTenant(t.db, 'acme', (trx) =>
        recordAudit(trx, { tenantId: 'globex', actor: 'a', action: 'x', entityType: 'x', result: 'ok' }),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it('keeps the audit log append-only for atlas_app and the owner alike', async () => {
    await expect(withTenant(t.db, 'acme', (trx) => trx('audit_log').update({ actor: 'z' }))).rejects.toThrow(
      /permission denied/,
    );
    await expect(withTenant(t.db, 'acme', (trx) => trx('audit_log').delete())).rejects.toThrow(
      /permission denied/,
    );
    await expect(t.db('audit_log').update({ actor: 'z' })).rejects.toThrow(/append-only/);
    await expect(t.db('audit_log').delete()).rejects.toThrow(/append-only/);
    await expect(t.db.raw('truncate audit_log')).rejects.toThrow(/append-only/);
  });

  it('redacts summaries and pages newest first', async () => {
    await withTenant(t.db, 'acme', async (trx) => {
      for (let i = 0; i < 3; i++) {
        await recordAudit(trx, {
          tenantId: 'acme',
          actor: 'a',
          action: 'y.create',
          entityType: 'y',
          entityId: String(i),
          result: 'ok',
          summary: { password: 'hunter2', note: 'Bearer abcdefghijkl' },
        });
      }
    });
    const page = await withTenant(t.db, 'acme', (trx) =>
      listAudit(trx, 'acme', { action: 'y.create', limit: 2 }),
    );
    expect(page.map((r) => r.entityId)).toEqual(['2', '1']);
    expect(page[0]?.summary).toEqual({ password: '[REDACTED]', note: '[REDACTED]' });
    const next = await withTenant(t.db, 'acme', (trx) =>
      listAudit(trx, 'acme', { action: 'y.create', limit: 2, beforeId: page[1]?.id }),
    );
    expect(next.map((r) => r.entityId)).toEqual(['0']);
  });
});
