/**
 * What someone holding the database owner's password can do to the audit log: statements
 * with the append-only trigger disabled, and a rewrite that recomputes the chain after the
 * row it changed (knowing exactly how Atlas hashes).
 */
import type { Knex } from 'knex';
import { chainHash, contentHash, payloadHash } from '../../engine/db/audit-hash.ts';

export async function tamper(db: Knex, sql: string, bindings: unknown[] = []): Promise<void> {
  await db.transaction(async (trx) => {
    await trx.raw('alter table audit_log disable trigger audit_log_no_update_delete');
    await (bindings.length > 0 ? trx.raw(sql, bindings as never) : trx.raw(sql));
    await trx.raw('alter table audit_log enable trigger audit_log_no_update_delete');
  });
}

/** Changes `changes` in the row at `seq` of `tenant`, then re-chains it and every row after it. */
export async function rewriteAndRechain(
  db: Knex,
  tenant: string,
  seq: number,
  changes: Record<string, unknown>,
): Promise<void> {
  await db.transaction(async (trx) => {
    await trx.raw('alter table audit_log disable trigger audit_log_no_update_delete');
    await trx('audit_log').where({ tenant_id: tenant, seq }).update(changes);
    const { rows } = await trx.raw(
      `select id, tenant_id, seq, (extract(epoch from at) * 1000000)::bigint::text as at_us, actor, action,
              entity_type, entity_id, request_id, status, result, summary, connector, method, host, path,
              duration_ms, prev_hash from audit_log where tenant_id = ? and seq >= ? order by seq`,
      [tenant, seq],
    );
    let prev = rows[0].prev_hash as Buffer;
    for (const row of rows) {
      const payload = payloadHash(row.summary);
      const hash = chainHash(prev, Number(row.seq), contentHash(row, payload));
      await trx('audit_log').where('id', row.id).update({ prev_hash: prev, hash, payload_hash: payload });
      prev = hash;
    }
    await trx('audit_chain_heads').where('chain', tenant).update({ hash: prev });
    await trx.raw('alter table audit_log enable trigger audit_log_no_update_delete');
  });
}
