import type { Knex } from 'knex';
import { chainHash, contentHash, GENESIS, payloadHash } from '../engine/db/audit-hash.ts';
import { disableTenantRls, enableTenantRls } from '../engine/db/rls.ts';

/**
 * The hash-chained audit log. Every row carries its tenant's sequence number (`seq`), the
 * SHA-256 of its payload (`payload_hash`, so the payload can be erased and the row still
 * verifies), the hash of the row before it (`prev_hash`) and its own hash (`hash`). Platform
 * events (no tenant) form a chain of their own. `audit_chain_heads` holds each chain's last
 * seq and hash; a writer locks its chain's head row in its transaction, so concurrent writers
 * cannot fork the chain or leave a gap.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table audit_log
    add column seq bigint, add column payload_hash bytea, add column prev_hash bytea,
    add column hash bytea, add column erased_at timestamptz,
    alter column summary drop not null`);
  await knex.raw(`create table audit_chain_heads (
    chain text primary key,
    seq bigint not null,
    hash bytea not null
  )`);
  await backfill(knex);
  await knex.raw(`alter table audit_log
    alter column seq set not null, alter column payload_hash set not null,
    alter column prev_hash set not null, alter column hash set not null`);
  await knex.raw(`create unique index audit_log_chain on audit_log ((coalesce(tenant_id, '')), seq)`);

  // Append-only still, with one exception: erasing a payload for retention (summary set to
  // null and erased_at set, nothing else changed). The row's hash covers the payload's hash,
  // not the payload, so the chain still verifies.
  await knex.raw(`
    create or replace function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' and new.summary is null and old.erased_at is null and new.erased_at is not null
         and (to_jsonb(new) - 'summary' - 'erased_at') = (to_jsonb(old) - 'summary' - 'erased_at') then
        return new;
      end if;
      raise exception 'audit_log is append-only' using errcode = 'insufficient_privilege';
    end $$;
  `);

  // The one door rows come in by: one statement for a batch. Heads are locked in chain
  // order (no deadlock between two batches); each row's hash is
  // sha256(prev_hash || seq as 8 bytes big-endian || content_hash). The content hash comes
  // from the writer, which canonicalises the row (engine/db/audit-hash.ts); the verifier
  // recomputes everything itself and trusts nothing stored here.
  await knex.raw(`
    create function audit_append(entries jsonb) returns setof bigint language plpgsql as $$
    declare
      k text;
      head_seq bigint;
      head_hash bytea;
      e record;
      seqs bigint[];
      prevs bytea[];
      hashes bytea[];
    begin
      for k in select distinct coalesce(x->>'tenant_id', '') from jsonb_array_elements(entries) x order by 1 loop
        insert into audit_chain_heads as h (chain, seq, hash) values (k, 0, '\\x${GENESIS.toString('hex')}'::bytea)
          on conflict (chain) do update set seq = h.seq
          returning h.seq, h.hash into head_seq, head_hash;
        for e in select t.ord, decode(t.x->>'content_hash', 'hex') as content
                   from jsonb_array_elements(entries) with ordinality as t(x, ord)
                  where coalesce(t.x->>'tenant_id', '') = k order by t.ord loop
          head_seq := head_seq + 1;
          prevs[e.ord] := head_hash;
          head_hash := sha256(head_hash || int8send(head_seq) || e.content);
          seqs[e.ord] := head_seq;
          hashes[e.ord] := head_hash;
        end loop;
        update audit_chain_heads set seq = head_seq, hash = head_hash where chain = k;
      end loop;
      return query
        with ins as (
          insert into audit_log (tenant_id, at, actor, action, entity_type, entity_id, request_id, status,
                                 result, summary, connector, method, host, path, duration_ms,
                                 seq, payload_hash, prev_hash, hash)
          select t.x->>'tenant_id', (t.x->>'at')::timestamptz, t.x->>'actor', t.x->>'action',
                 t.x->>'entity_type', t.x->>'entity_id', t.x->>'request_id', (t.x->>'status')::int,
                 t.x->>'result', t.x->'summary', t.x->>'connector', t.x->>'method', t.x->>'host',
                 t.x->>'path', (t.x->>'duration_ms')::int,
                 seqs[t.ord], decode(t.x->>'payload_hash', 'hex'), prevs[t.ord], hashes[t.ord]
            from jsonb_array_elements(entries) with ordinality as t(x, ord)
           order by t.ord
          returning audit_log.id, audit_log.hash
        )
        select ins.id from ins join unnest(hashes) with ordinality as c(hash, ord) on ins.hash = c.hash
         order by c.ord;
    end $$;
  `);
  await enableTenantRls(knex, 'audit_chain_heads', {
    column: 'chain',
    privileges: ['select', 'insert', 'update'],
  });
}

/** Chains the rows written before this migration, in id order per tenant. */
async function backfill(knex: Knex): Promise<void> {
  const { rows } = await knex.raw<{ rows: Array<Record<string, unknown>> }>(
    `select id, tenant_id, (extract(epoch from at) * 1000000)::bigint::text as at_us, actor, action,
            entity_type, entity_id, request_id, status, result, summary, connector, method, host, path,
            duration_ms
       from audit_log order by id`,
  );
  if (rows.length === 0) return;
  await knex.raw('alter table audit_log disable trigger audit_log_no_update_delete');
  const heads = new Map<string, { seq: number; hash: Buffer }>();
  for (const row of rows) {
    const chain = (row.tenant_id as string | null) ?? '';
    const head = heads.get(chain) ?? { seq: 0, hash: GENESIS };
    const payload = payloadHash(row.summary);
    const seq = head.seq + 1;
    const hash = chainHash(head.hash, seq, contentHash(row as never, payload));
    await knex('audit_log')
      .where('id', row.id as number)
      .update({ seq, payload_hash: payload, prev_hash: head.hash, hash });
    heads.set(chain, { seq, hash });
  }
  for (const [chain, head] of heads) await knex('audit_chain_heads').insert({ chain, ...head });
  await knex.raw('alter table audit_log enable trigger audit_log_no_update_delete');
}

export async function down(knex: Knex): Promise<void> {
  await disableTenantRls(knex, 'audit_chain_heads');
  await knex.raw('drop function audit_append(jsonb)');
  await knex.raw(`
    create or replace function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only' using errcode = 'insufficient_privilege';
    end $$;
  `);
  await knex.raw('drop index audit_log_chain');
  await knex.raw('drop table audit_chain_heads');
  await knex.raw('alter table audit_log disable trigger audit_log_no_update_delete');
  await knex.raw(`update audit_log set summary = '{}' where summary is null`);
  await knex.raw('alter table audit_log enable trigger audit_log_no_update_delete');
  await knex.raw(`alter table audit_log
    drop column seq, drop column payload_hash, drop column prev_hash, drop column hash,
    drop column erased_at, alter column summary set not null`);
}
