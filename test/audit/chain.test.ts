import { beforeAll, describe, expect, it } from 'vitest';
import { type AuditRecord, recordAudit, recordAudits } from '../../engine/db/audit.ts';
import { anchorAudit, parseAnchors, verifyAudit } from '../../engine/db/audit-chain.ts';
import { makeDb } from '../../engine/db/knex.ts';
import { withTenant } from '../../engine/db/rls.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { rewriteAndRechain, tamper as tamperWith } from './tamper.ts';

const t = useTestDatabase();

const entry = (tenantId: string | null, i: number, extra: Partial<AuditRecord> = {}): AuditRecord => ({
  tenantId,
  actor: 'alice',
  action: 'runs.trigger',
  entityType: 'run',
  entityId: `e${i}`,
  result: 'ok',
  summary: { i, note: 'ünïcödé \u{1F600}', nested: { b: [1, 2.5, null], a: true } },
  ...extra,
});

const tamper = (sql: string, bindings: unknown[] = []) => tamperWith(t.db, sql, bindings);

async function idOf(tenant: string, seq: number): Promise<number> {
  const row = await t.db('audit_log').where({ tenant_id: tenant, seq }).first('id');
  return Number(row.id);
}

/** A fresh tenant with `n` chained rows. */
async function tenantWith(id: string, n: number): Promise<void> {
  await t.db('tenants').insert({ id, name: id });
  for (let i = 1; i <= n; i++) await recordAudit(t.db, entry(id, i));
}

async function problemOf(tenantId: string, anchors?: ReturnType<typeof parseAnchors>) {
  const [report] = await verifyAudit(t.db, { tenantId, ...(anchors ? { anchors } : {}) });
  return report!.problem;
}

beforeAll(async () => {
  await t.db('tenants').insert([
    { id: 'acme', name: 'Acme' },
    { id: 'globex', name: 'Globex' },
  ]);
});

describe('the audit chain', () => {
  it('numbers and chains each tenant apart, and verifies', async () => {
    await recordAudits(t.db, [entry('acme', 1), entry('globex', 1), entry('acme', 2), entry(null, 1)]);
    await recordAudit(t.db, entry('acme', 3, { summary: { big: 2 ** 60, tiny: 5e-324 } }));
    await withTenant(t.db, 'globex', (trx) => recordAudit(trx, entry('globex', 2)));
    const rows = await t.db('audit_log').orderBy('id').select('tenant_id', 'seq');
    expect(rows.map((r) => [r.tenant_id, Number(r.seq)])).toEqual([
      ['acme', 1],
      ['globex', 1],
      ['acme', 2],
      [null, 1],
      ['acme', 3],
      ['globex', 2],
    ]);
    const reports = await verifyAudit(t.db);
    expect(reports.map((r) => [r.tenantId, r.ok, r.rows])).toEqual([
      [null, true, 1],
      ['acme', true, 3],
      ['globex', true, 2],
    ]);
    const anchor = await anchorAudit(t.db, { tenantId: 'acme' });
    expect(anchor.chains).toEqual([{ tenantId: 'acme', seq: 3, hash: reports[1]!.head!.hash }]);
  });

  it('stores text PostgreSQL refuses (NUL, lone surrogates) as U+FFFD, hashed as stored', async () => {
    await tenantWith('odd', 0);
    await recordAudit(t.db, entry('odd', 1, { actor: 'bad\uD800actor', path: '/x\uDC00' }));
    // A provider's answer PostgreSQL could not store as it is: still audited, and verifiable.
    await recordAudit(
      t.db,
      entry('odd', 2, { actor: 'nul\u0000', summary: { body: 'a\u0000b\uD800c', ['k\uDC00']: 1 } }),
    );
    expect((await verifyAudit(t.db, { tenantId: 'odd' }))[0]).toMatchObject({ ok: true, rows: 2 });
    const row = await t.db('audit_log').where({ tenant_id: 'odd', seq: 2 }).first('summary', 'actor');
    expect(row).toEqual({ actor: 'nul\uFFFD', summary: { body: 'a\uFFFDb\uFFFDc', 'k\uFFFD': 1 } });
  });

  it('keeps text that only looks like an escape, and bounds a long summary before storing it', async () => {
    await tenantWith('esc', 0);
    const literal = { note: 'C:\\u0000\\ud800 is text', ['\\ud83d']: 'key' };
    await recordAudit(t.db, entry('esc', 1, { summary: literal }));
    const long = { body: `${'x'.repeat(9000)}\u0000` };
    await recordAudit(t.db, entry('esc', 2, { summary: long }));
    expect((await verifyAudit(t.db, { tenantId: 'esc' }))[0]).toMatchObject({ ok: true, rows: 2 });
    const rows = await t.db('audit_log').where({ tenant_id: 'esc' }).orderBy('seq').select('summary');
    expect(rows[0]!.summary).toEqual(literal);
    expect(rows[1]!.summary).toMatchObject({ truncated: true });
    expect(rows[1]!.summary.preview).toBe(JSON.stringify(long).slice(0, 8192));
  });

  it('names an edited row, even one edited with the trigger disabled', async () => {
    await tenantWith('edit', 5);
    const id = await idOf('edit', 3);
    await tamper(`update audit_log set actor = 'mallory' where id = ?`, [id]);
    expect(await problemOf('edit')).toMatchObject({ kind: 'edited', seq: 3, id });

    await tenantWith('edit2', 4);
    const id2 = await idOf('edit2', 2);
    await tamper(`update audit_log set summary = '{"i": 99}' where id = ?`, [id2]);
    expect(await problemOf('edit2')).toMatchObject({ kind: 'edited', seq: 2, id: id2 });
  });

  it('names a deleted row, and a deleted tail', async () => {
    await tenantWith('del', 5);
    await tamper(`delete from audit_log where id = ?`, [await idOf('del', 2)]);
    expect(await problemOf('del')).toMatchObject({ kind: 'deleted', seq: 2, id: null });

    await tenantWith('tail', 4);
    await tamper(`delete from audit_log where tenant_id = 'tail' and seq >= 3`);
    expect(await problemOf('tail')).toMatchObject({ kind: 'deleted', seq: 3 });
  });

  it('names an inserted row', async () => {
    await tenantWith('ins', 3);
    await tamper(
      `drop index audit_log_chain;
       insert into audit_log (tenant_id, actor, action, entity_type, result, summary, seq, payload_hash, prev_hash, hash)
       select tenant_id, 'mallory', action, entity_type, result, summary, seq, payload_hash, prev_hash, hash
         from audit_log where tenant_id = 'ins' and seq = 2`,
    );
    const inserted = await t.db('audit_log').where({ tenant_id: 'ins', actor: 'mallory' }).first('id');
    const problem = await problemOf('ins');
    await tamper(
      `delete from audit_log where id = ${Number(inserted.id)};
      create unique index audit_log_chain on audit_log ((coalesce(tenant_id, '')), seq)`,
    );
    expect(problem).toMatchObject({ kind: 'inserted', seq: 2, id: Number(inserted.id) });
  });

  it('names a reordered row', async () => {
    await tenantWith('swap', 5);
    const [a, b] = [await idOf('swap', 2), await idOf('swap', 3)];
    await tamper(`update audit_log set seq = -seq where id in (?, ?)`, [a, b]);
    await tamper(`update audit_log set seq = case id when ? then 3 else 2 end where id in (?, ?)`, [a, a, b]);
    expect(await problemOf('swap')).toMatchObject({ kind: 'reordered', seq: 2, id: b });
  });

  it('catches a rewrite that re-chains every row after it, against an anchor kept outside', async () => {
    await tenantWith('rechain', 3);
    const early = JSON.stringify(await anchorAudit(t.db, { tenantId: 'rechain' }));
    for (let i = 4; i <= 6; i++) await recordAudit(t.db, entry('rechain', i));
    const late = JSON.stringify(await anchorAudit(t.db, { tenantId: 'rechain' }));
    const anchors = parseAnchors(`${early}\n${late}\n`, 'anchors.jsonl');

    await rewriteAndRechain(t.db, 'rechain', 5, { actor: 'mallory' });

    expect(await problemOf('rechain')).toBeUndefined();
    const problem = await problemOf('rechain', anchors);
    expect(problem).toMatchObject({ kind: 'rewritten', seq: 6, id: await idOf('rechain', 6) });
    expect(problem!.message).toContain('seq 4 to 6');
  });

  it('names a chain deleted whole, head and all, against an anchor', async () => {
    await tenantWith('gone', 2);
    const anchors = parseAnchors(JSON.stringify(await anchorAudit(t.db)), 'anchor.json');
    await tamper(
      `delete from audit_log where tenant_id = 'gone'; delete from audit_chain_heads where chain = 'gone'`,
    );
    expect((await verifyAudit(t.db)).some((r) => r.tenantId === 'gone')).toBe(false);
    const report = (await verifyAudit(t.db, { anchors })).find((r) => r.tenantId === 'gone');
    expect(report).toMatchObject({ ok: false, problem: { kind: 'deleted', seq: 1 } });
  });

  it('lets a payload be erased for retention and still verifies', async () => {
    await tenantWith('erase', 3);
    const id = await idOf('erase', 2);
    await expect(t.db('audit_log').where({ id }).update({ summary: null })).rejects.toThrow(/append-only/);
    await expect(
      t.db('audit_log').where({ id }).update({ summary: null, erased_at: t.db.fn.now(), actor: 'x' }),
    ).rejects.toThrow(/append-only/);
    await t.db('audit_log').where({ id }).update({ summary: null, erased_at: t.db.fn.now() });
    const [report] = await verifyAudit(t.db, { tenantId: 'erase' });
    expect(report).toMatchObject({ ok: true, rows: 3, erased: 1 });
  });

  it('never forks or skips under concurrent writers from several pools', async () => {
    await tenantWith('race', 0);
    await tenantWith('race2', 0);
    const pools = [0, 1, 2].map(() => makeDb(t.url, { poolSize: 4 }));
    try {
      await Promise.all(
        pools.flatMap((pool, p) =>
          Array.from({ length: 40 }, (_, i) => {
            const n = p * 100 + i;
            if (i % 3 === 0) return recordAudits(pool, [entry('race2', n), entry('race', n)]);
            if (i % 3 === 1) return pool.transaction((trx) => recordAudit(trx, entry('race', n)));
            return recordAudit(pool, entry(i % 2 ? 'race' : 'race2', n));
          }),
        ),
      );
    } finally {
      await Promise.all(pools.map((p) => p.destroy()));
    }
    const reports = await verifyAudit(t.db);
    const race = reports.filter((r) => r.tenantId === 'race' || r.tenantId === 'race2');
    expect(race.every((r) => r.ok)).toBe(true);
    const total = race.reduce((sum, r) => sum + r.rows, 0);
    expect(total).toBe(3 * (14 * 2 + 13 + 13));
    for (const tenant of ['race', 'race2']) {
      const seqs = (await t.db('audit_log').where('tenant_id', tenant).orderBy('seq').pluck('seq')).map(
        Number,
      );
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    }
  });

  it('refuses a malformed anchor file in one sentence', () => {
    expect(() => parseAnchors('', 'a.json')).toThrow('a.json holds no anchor');
    expect(() => parseAnchors('{"chains": [1]}\nnope', 'a.json')).toThrow(/a.json:1 is not JSON|a.json:2/);
    expect(() => parseAnchors('{"chains": [{"tenantId": "x", "seq": 1, "hash": "zz"}]}', 'a.json')).toThrow(
      /without tenantId, seq and hash/,
    );
  });
});
