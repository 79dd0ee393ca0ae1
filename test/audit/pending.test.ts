/**
 * An audited change records its entry in its own transaction without locking its tenant's
 * chain head; a group-committed batch chains it right after the commit. So one tenant's
 * concurrent writes do not commit one at a time, and the chain still has no fork and no gap.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type AuditRecord, deferAudit, recordAudit, withAuditEntry } from '../../engine/db/audit.ts';
import { anchorAudit, verifyAudit } from '../../engine/db/audit-chain.ts';
import { chainPendingAudit } from '../../engine/db/audit-pending.ts';
import { makeDb } from '../../engine/db/knex.ts';
import { useTestDatabase } from '../helpers/db.ts';

const t = useTestDatabase();

const entry = (tenantId: string, i: number): AuditRecord => ({
  tenantId,
  actor: 'alice',
  action: 'tenants.update',
  entityType: 'tenant',
  entityId: `e${i}`,
  result: 'ok',
  summary: { i },
});

const until = async (what: () => Promise<boolean>, ms = 5000): Promise<boolean> => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
};

const seqsOf = async (tenant: string): Promise<number[]> =>
  (await t.db('audit_log').where('tenant_id', tenant).orderBy('id').pluck('seq')).map(Number);

const pendingCount = async (): Promise<number> =>
  Number((await t.db('audit_pending').count<{ n: string }[]>('* as n'))[0]!.n);

beforeAll(async () => {
  await t.db('tenants').insert([
    { id: 'held', name: 'Held' },
    { id: 'many', name: 'Many' },
    { id: 'left', name: 'Left' },
  ]);
});

describe('deferred chaining of audited changes', () => {
  it("commits a change while its tenant's chain head is locked, and chains its entry after", async () => {
    await recordAudit(t.db, entry('held', 0));
    const holder = await t.db.transaction();
    let committed = false;
    let done: Promise<void> | undefined;
    try {
      await holder.raw(`select 1 from audit_chain_heads where chain = 'held' for update`);
      done = withAuditEntry(
        t.db,
        (trx) => trx('tenants').where('id', 'held').update({ name: 'Held 2' }),
        () => entry('held', 1),
      ).then(() => {
        committed = true;
      });
      // The change is visible to everyone although the head is still locked...
      expect(
        await until(async () => (await t.db('tenants').where('id', 'held').first('name')).name === 'Held 2'),
      ).toBe(true);
      // ...and its caller waits for its entry's chain, which waits for the head.
      expect(committed).toBe(false);
      expect(await seqsOf('held')).toEqual([1]);
    } finally {
      await holder.commit();
    }
    await done;
    expect(await seqsOf('held')).toEqual([1, 2]);
    expect(await pendingCount()).toBe(0);
    expect((await verifyAudit(t.db, { tenantId: 'held' }))[0]).toMatchObject({ ok: true, rows: 2 });
  });

  it('hands out an anchor only once the batch that made its head is on disk', async () => {
    // Batches commit without waiting for the disk; an anchor kept outside must survive a crash.
    await withAuditEntry(
      t.db,
      async () => undefined,
      () => entry('held', 9),
    );
    const { rows } = await t.db.raw('select pg_current_wal_insert_lsn()::text as lsn');
    const anchor = await anchorAudit(t.db, { tenantId: 'held' });
    const flushed = await t.db.raw('select pg_current_wal_flush_lsn() >= ?::pg_lsn as ok', [rows[0].lsn]);
    expect(anchor.chains).toEqual([expect.objectContaining({ tenantId: 'held', seq: 3 })]);
    expect(flushed.rows[0].ok).toBe(true);
  });

  it('never forks or skips when many writers of one tenant chain at once, from several pools', async () => {
    const pools = [0, 1, 2].map(() => makeDb(t.url, { poolSize: 5 }));
    try {
      await Promise.all(
        pools.flatMap((pool, p) =>
          Array.from({ length: 60 }, (_, i) => {
            const n = p * 100 + i;
            if (i % 4 === 3) return recordAudit(pool, entry('many', n));
            if (i % 4 === 2) return pool.transaction((trx) => recordAudit(trx, entry('many', n)));
            return withAuditEntry(
              pool,
              (trx) => trx.raw('select pg_sleep(0.001)'),
              () => entry('many', n),
            );
          }),
        ),
      );
    } finally {
      await Promise.all(pools.map((p) => p.destroy()));
    }
    const seqs = await seqsOf('many');
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(seqs).toHaveLength(180);
    expect((await verifyAudit(t.db, { tenantId: 'many' }))[0]).toMatchObject({ ok: true, rows: 180 });
  });

  it('chains entries a crashed process left waiting', async () => {
    // What a process that died between its commit and its batch leaves: the entry, waiting.
    await t.db.transaction((trx) => deferAudit(trx, [entry('left', 1), entry('left', 2)]));
    await t.db('audit_pending').update({ created_at: t.db.raw(`now() - interval '1 minute'`) });
    expect(await seqsOf('left')).toEqual([]);
    expect(await chainPendingAudit(t.db)).toBe(2);
    expect(await seqsOf('left')).toEqual([1, 2]);
    expect(await pendingCount()).toBe(0);
    expect((await verifyAudit(t.db, { tenantId: 'left' }))[0]).toMatchObject({ ok: true, rows: 2 });
  });
});
