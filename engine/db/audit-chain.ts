/**
 * Verifying the audit chain and anchoring it.
 *
 * The verifier trusts nothing the database computed: it reads each chain in `seq` order,
 * recomputes every payload hash, content hash and chain hash itself (engine/db/audit-hash.ts)
 * and names the first row that was edited, deleted, inserted or reordered, even by an owner
 * who disabled the append-only trigger. A rewrite that re-chains every row after the one it
 * changed leaves a consistent chain behind; an anchor (the heads printed by `atlas audit
 * anchor`, kept outside the database) catches it, because the anchored hash no longer
 * appears at its seq.
 */
import type { Knex } from 'knex';
import { chainHash, contentHash, GENESIS, type HashedFields, payloadHash } from './audit-hash.ts';
import { chainFlushed } from './audit-pending.ts';

export type ProblemKind = 'edited' | 'deleted' | 'inserted' | 'reordered' | 'rewritten';

export interface ChainProblem {
  kind: ProblemKind;
  /** The seq at which the chain stops holding. */
  seq: number;
  /** The row found there (null when it is missing). */
  id: number | null;
  message: string;
}

export interface ChainReport {
  tenantId: string | null;
  ok: boolean;
  /** Rows verified before the first problem (all of them when ok). */
  rows: number;
  /** Rows whose payload was erased for retention (still verified by their payload hash). */
  erased: number;
  head: { seq: number; hash: string } | null;
  problem?: ChainProblem;
}

/** One chain's anchored point: the hash its row at `seq` had when the anchor was taken. */
export interface AnchorPoint {
  tenantId: string | null;
  seq: number;
  hash: string;
  at?: string;
}

export interface Anchor {
  at: string;
  chains: AnchorPoint[];
}

const PAGE = 2000;

/** Every chain (or one tenant's), verified; `anchors` are checked on the way. */
export async function verifyAudit(
  db: Knex | Knex.Transaction,
  opts: { tenantId?: string | null; anchors?: AnchorPoint[] } = {},
): Promise<ChainReport[]> {
  // A chain whose rows and head are all gone is still named by the anchors that saw it.
  const chains =
    opts.tenantId !== undefined
      ? [opts.tenantId ?? '']
      : [
          ...new Set([
            ...(
              await db.raw<{ rows: Array<{ chain: string }> }>(
                `select chain from audit_chain_heads
                  union select distinct coalesce(tenant_id, '') from audit_log`,
              )
            ).rows.map((r) => r.chain),
            ...(opts.anchors ?? []).map((a) => a.tenantId ?? ''),
          ]),
        ].sort();
  const reports: ChainReport[] = [];
  for (const chain of chains) {
    const anchors = (opts.anchors ?? []).filter((a) => (a.tenantId ?? '') === chain);
    reports.push(await verifyChain(db, chain, anchors));
  }
  await chainFlushed(db); // the heads reported are the anchors to keep
  return reports;
}

interface StoredRow extends HashedFields {
  id: string;
  seq: string;
  summary: unknown;
  erased_at: Date | null;
  payload_hash: Buffer;
  prev_hash: Buffer;
  hash: Buffer;
}

const SELECT = `select id, tenant_id, seq, (extract(epoch from at) * 1000000)::bigint::text as at_us, actor, action,
       entity_type, entity_id, request_id, status, result, summary, connector, method, host, path,
       duration_ms, erased_at, payload_hash, prev_hash, hash
  from audit_log where coalesce(tenant_id, '') = ? and (seq, id) > (?, ?) order by seq, id limit ${PAGE}`;

async function verifyChain(
  db: Knex | Knex.Transaction,
  chain: string,
  anchorPoints: AnchorPoint[],
): Promise<ChainReport> {
  const tenantId = chain === '' ? null : chain;
  const anchors = new Map<number, AnchorPoint>();
  for (const a of anchorPoints) anchors.set(a.seq, a);
  const report: ChainReport = { tenantId, ok: true, rows: 0, erased: 0, head: null };
  const fail = (problem: ChainProblem): ChainReport => ({ ...report, ok: false, problem });

  let expected = 1;
  let prevHash = GENESIS;
  let prevId = 0;
  let lastAnchorOk = 0;
  let cursor: [string, string] = ['0', '0'];
  for (;;) {
    const { rows } = await db.raw<{ rows: StoredRow[] }>(SELECT, [chain, ...cursor]);
    if (rows.length === 0) break;
    for (const row of rows) {
      const seq = Number(row.seq);
      const id = Number(row.id);
      cursor = [row.seq, row.id];
      if (seq < expected) {
        return fail({
          kind: 'inserted',
          seq,
          id,
          message: `row ${id} repeats seq ${seq}: a row was inserted into the chain`,
        });
      }
      if (seq > expected) {
        return fail({
          kind: 'deleted',
          seq: expected,
          id: null,
          message:
            seq === expected + 1
              ? `the row with seq ${expected} is missing (deleted) before row ${id}`
              : `the rows with seq ${expected} to ${seq - 1} are missing (deleted) before row ${id}`,
        });
      }
      const erased = row.summary === null;
      if (erased && row.erased_at === null) {
        return fail({ kind: 'edited', seq, id, message: `row ${id} (seq ${seq}) lost its payload` });
      }
      if (!erased && !payloadHash(row.summary).equals(row.payload_hash)) {
        return fail({ kind: 'edited', seq, id, message: `row ${id} (seq ${seq}) has an edited payload` });
      }
      const content = contentHash(row, row.payload_hash);
      if (!chainHash(row.prev_hash, seq, content).equals(row.hash)) {
        return fail(diagnose(row, seq, id, content));
      }
      if (!row.prev_hash.equals(prevHash)) {
        return fail({
          kind: 'inserted',
          seq,
          id,
          message: `row ${id} (seq ${seq}) does not link to the row before it: it was inserted or moved here`,
        });
      }
      if (id <= prevId) {
        return fail({
          kind: 'reordered',
          seq,
          id,
          message: `row ${id} (seq ${seq}) comes after row ${prevId} in the chain but was written before it`,
        });
      }
      const anchor = anchors.get(seq);
      if (anchor) {
        if (anchor.hash !== row.hash.toString('hex')) {
          return fail({
            kind: 'rewritten',
            seq,
            id,
            message: `row ${id} (seq ${seq}) does not match the anchor${anchor.at ? ` of ${anchor.at}` : ''}: a row with seq ${lastAnchorOk + 1} to ${seq} was rewritten and the chain re-computed after it`,
          });
        }
        lastAnchorOk = seq;
      }
      if (erased) report.erased += 1;
      report.rows += 1;
      expected = seq + 1;
      prevHash = row.hash;
      prevId = id;
    }
  }
  const last = expected - 1;
  report.head = last === 0 ? null : { seq: last, hash: prevHash.toString('hex') };
  const beyond = [...anchors.keys()].filter((s) => s > last).sort((a, b) => a - b)[0];
  if (beyond !== undefined) {
    return fail({
      kind: 'deleted',
      seq: last + 1,
      id: null,
      message: `the chain ends at seq ${last} but was anchored at seq ${beyond}: its last rows were deleted`,
    });
  }
  const { rows: heads } = await db.raw<{ rows: Array<{ seq: string; hash: Buffer }> }>(
    'select seq, hash from audit_chain_heads where chain = ?',
    [chain],
  );
  const head = heads[0];
  if (head === undefined ? last > 0 : Number(head.seq) !== last || !head.hash.equals(prevHash)) {
    const headSeq = head === undefined ? 0 : Number(head.seq);
    return fail({
      kind: 'deleted',
      seq: last + 1,
      id: null,
      message:
        headSeq > last
          ? `the chain ends at seq ${last} but its head is at seq ${headSeq}: its last rows were deleted`
          : `the chain's head (seq ${headSeq}) does not match its last row (seq ${last})`,
    });
  }
  return report;
}

/** How far from its seq a row is looked for when its own hash fails. */
const MOVE_WINDOW = 1000;

/** A row whose own hash fails: moved from another seq (its hash holds there), or edited. */
function diagnose(row: StoredRow, seq: number, id: number, content: Buffer): ChainProblem {
  for (let delta = 1; delta <= MOVE_WINDOW; delta++) {
    for (const at of [seq - delta, seq + delta]) {
      if (at > 0 && chainHash(row.prev_hash, at, content).equals(row.hash)) {
        return {
          kind: 'reordered',
          seq,
          id,
          message: `row ${id} was written at seq ${at} and now stands at seq ${seq}`,
        };
      }
    }
  }
  return { kind: 'edited', seq, id, message: `row ${id} (seq ${seq}) was edited` };
}

/** Each chain's head: what a tenant keeps outside the database. */
export async function anchorAudit(
  db: Knex | Knex.Transaction,
  opts: { tenantId?: string | null } = {},
): Promise<Anchor> {
  const query = db('audit_chain_heads').select('chain', 'seq', 'hash').orderBy('chain');
  if (opts.tenantId !== undefined) query.where('chain', opts.tenantId ?? '');
  const rows = (await query) as Array<{ chain: string; seq: string; hash: Buffer }>;
  await chainFlushed(db);
  return {
    at: new Date().toISOString(),
    chains: rows.map((r) => ({
      tenantId: r.chain === '' ? null : r.chain,
      seq: Number(r.seq),
      hash: r.hash.toString('hex'),
    })),
  };
}

/**
 * The points of an anchor file: one anchor as JSON, or JSON lines of anchors (an appended
 * history, `atlas audit anchor >> anchors.jsonl`). Throws one sentence on a malformed file.
 */
export function parseAnchors(text: string, source: string): AnchorPoint[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new Error(`${source} holds no anchor`);
  let documents: unknown[];
  try {
    documents = [JSON.parse(trimmed)];
  } catch {
    documents = trimmed.split('\n').map((line, i) => {
      try {
        return JSON.parse(line);
      } catch {
        throw new Error(`${source}:${i + 1} is not JSON; give the output of \`atlas audit anchor\``);
      }
    });
  }
  const points: AnchorPoint[] = [];
  for (const [i, doc] of documents.entries()) {
    const chains = (doc as { chains?: unknown }).chains;
    if (!Array.isArray(chains)) throw new Error(`${source}: anchor ${i + 1} has no "chains" list`);
    for (const c of chains as Array<Record<string, unknown>>) {
      const valid =
        (c.tenantId === null || typeof c.tenantId === 'string') &&
        Number.isSafeInteger(c.seq) &&
        (c.seq as number) > 0 &&
        typeof c.hash === 'string' &&
        /^[0-9a-f]{64}$/.test(c.hash);
      if (!valid) throw new Error(`${source}: anchor ${i + 1} has a chain without tenantId, seq and hash`);
      const at = (doc as { at?: unknown }).at;
      points.push({
        tenantId: c.tenantId as string | null,
        seq: c.seq as number,
        hash: c.hash as string,
        ...(typeof at === 'string' ? { at } : {}),
      });
    }
  }
  return points;
}
