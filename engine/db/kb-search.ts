/**
 * Search: full text (PostgreSQL `tsvector`, English stemming, any query word may match,
 * ranked by `ts_rank_cd`), vector (exact cosine over unit vectors: pgvector's HNSW index
 * where the database has it, else a bounded in-process cache of the tenant's vectors, else
 * SQL), and hybrid: both rankings fused by reciprocal rank fusion.
 */
import type { Knex } from 'knex';
import { hasPgvector, PGVECTOR_DIMENSIONS, vectorLiteral } from './kb-documents.ts';

export interface Ranked {
  id: string;
  score: number;
}

export interface ChunkHit {
  id: string;
  ordinal: number;
  text: string;
  documentId: string;
  title: string | null;
  sourceKey: string;
  metadata: Record<string, unknown>;
}

/** Most full-text matches ranked per query (see searchText). */
export const RANK_CANDIDATES = 1000;
/** Most distinct words of a query looked up one by one. */
const MAX_WORDS = 12;

/** The constant of reciprocal rank fusion (Cormack et al.): 60. */
export const RRF_K = 60;

function filterSql(filter: Record<string, unknown> | undefined): { sql: string; bindings: string[] } {
  if (!filter || Object.keys(filter).length === 0) return { sql: '', bindings: [] };
  return { sql: ' and d.metadata @> ?::jsonb', bindings: [JSON.stringify(filter)] };
}

export async function searchText(
  trx: Knex.Transaction,
  tenantId: string,
  query: string,
  n: number,
  filter?: Record<string, unknown>,
): Promise<Ranked[]> {
  const f = filterSql(filter);
  const run = async (tsquery: string, limit: number) => {
    // The tsquery is written inline (not joined from a subquery) so that the planner sees a
    // constant and takes the GIN index. Ranking reads each matching chunk's tsvector: words
    // found in most chunks would make a query rank the whole tenant, so at most
    // RANK_CANDIDATES matches are ranked.
    const { rows } = await trx.raw<{ rows: Array<{ id: string; score: number }> }>(
      `select m.id::text as id, ts_rank_cd(m.tsv, ${tsquery}) as score
         from (select c.id, c.tsv
                 from kb_chunks c join kb_documents d on d.id = c.document_id
                where c.tenant_id = ? and d.status = 'ready' and c.tsv @@ ${tsquery}${f.sql}
                limit ?) m
        order by score desc, m.id
        limit ?`,
      [query, tenantId, query, ...f.bindings, RANK_CANDIDATES, limit],
    );
    return rows.map((r) => ({ id: r.id, score: Number(r.score) }));
  };
  // Chunks holding every word of the query first (plainto_tsquery joins them with AND: a
  // selective index lookup).
  const all = await run(`plainto_tsquery('english', ?)`, n);
  if (all.length >= n) return all;
  // A question rarely has every word in one chunk: then chunks holding any of them follow.
  // Their candidates are gathered word by word, each capped, so that a word found in most
  // chunks cannot crowd out the chunks holding a rare one; all are ranked by cover density.
  const { rows: words } = await trx.raw<{ rows: Array<{ lexeme: string }> }>(
    `select distinct unnest(tsvector_to_array(to_tsvector('english', ?))) as lexeme limit ${MAX_WORDS}`,
    [query],
  );
  if (words.length === 0) return all;
  const quoted = words.map((w) => `'${w.lexeme.replace(/'/g, "''")}'`);
  const exclude = all.map((r) => r.id);
  const perWord = Math.ceil(RANK_CANDIDATES / words.length);
  const candidates = quoted
    .map(
      () => `(select c.id from kb_chunks c join kb_documents d on d.id = c.document_id
               where c.tenant_id = ? and d.status = 'ready' and c.tsv @@ ?::tsquery${f.sql} limit ${perWord})`,
    )
    .join(' union ');
  const { rows } = await trx.raw<{ rows: Array<{ id: string; score: number }> }>(
    `select c.id::text as id, ts_rank_cd(c.tsv, ?::tsquery) as score
       from kb_chunks c
      where c.id in (${candidates})${exclude.length > 0 ? ' and c.id <> all(?::bigint[])' : ''}
      order by score desc, c.id
      limit ?`,
    [
      quoted.join(' | '),
      ...quoted.flatMap((q) => [tenantId, q, ...f.bindings]),
      ...(exclude.length > 0 ? [exclude] : []),
      n - all.length,
    ],
  );
  return [...all, ...rows.map((r) => ({ id: r.id, score: Number(r.score) }))];
}

/** Exact cosine in SQL (unit vectors: the dot product), for tenants beyond the cache's budget. */
async function searchVectorSql(
  trx: Knex.Transaction,
  tenantId: string,
  vector: Float32Array,
  n: number,
  filter?: Record<string, unknown>,
): Promise<Ranked[]> {
  const f = filterSql(filter);
  const { rows } = await trx.raw<{ rows: Array<{ id: string; score: number }> }>(
    `select c.id::text as id,
            (select sum(a * b) from unnest(c.embedding, ?::real[]) as t(a, b)) as score
       from kb_chunks c join kb_documents d on d.id = c.document_id
      where c.tenant_id = ? and d.status = 'ready' and cardinality(c.embedding) = ?${f.sql}
      order by score desc, c.id
      limit ?`,
    [`{${Array.from(vector).join(',')}}`, tenantId, vector.length, ...f.bindings, n],
  );
  return rows.map((r) => ({ id: r.id, score: Number(r.score) }));
}

async function searchPgvector(
  trx: Knex.Transaction,
  tenantId: string,
  vector: Float32Array,
  n: number,
  filter?: Record<string, unknown>,
): Promise<Ranked[]> {
  const f = filterSql(filter);
  const { rows } = await trx.raw<{ rows: Array<{ id: string; score: number }> }>(
    `select c.id::text as id, 1 - (c.embedding_vec <=> ?::vector) as score
       from kb_chunks c join kb_documents d on d.id = c.document_id
      where c.tenant_id = ? and d.status = 'ready' and c.embedding_vec is not null${f.sql}
      order by c.embedding_vec <=> ?::vector
      limit ?`,
    [vectorLiteral(vector), tenantId, ...f.bindings, vectorLiteral(vector), n],
  );
  return rows.map((r) => ({ id: r.id, score: Number(r.score) }));
}

interface TenantVectors {
  version: string;
  dims: number;
  ids: string[];
  documents: string[];
  matrix: Float32Array;
  bytes: number;
}

/**
 * The tenants' vectors in memory, within a byte budget (least recently used tenants leave
 * first). An entry is valid while the tenant's documents are unchanged (count, latest update,
 * chunk total); a tenant whose vectors alone exceed the budget is searched in SQL.
 */
export class VectorCache {
  private readonly entries = new Map<string, TenantVectors>();
  private used = 0;

  constructor(readonly budgetBytes: number) {}

  get bytesUsed(): number {
    return this.used;
  }

  async search(
    trx: Knex.Transaction,
    tenantId: string,
    vector: Float32Array,
    n: number,
    filter?: Record<string, unknown>,
  ): Promise<Ranked[]> {
    const { rows } = await trx.raw<{ rows: Array<{ version: string; vectors: number }> }>(
      `select count(*) || ':' || coalesce(max(updated_at)::text, '') || ':' || coalesce(sum(chunk_count), 0) as version,
              coalesce(sum(chunk_count) filter (where embedding_dimensions = ?), 0)::bigint as vectors
         from kb_documents where tenant_id = ? and status = 'ready'`,
      [vector.length, tenantId],
    );
    const { version, vectors } = rows[0]!;
    const needed = Number(vectors) * vector.length * 4;
    if (needed > this.budgetBytes) return searchVectorSql(trx, tenantId, vector, n, filter);
    let entry = this.entries.get(tenantId);
    if (!entry || entry.version !== version || entry.dims !== vector.length) {
      this.drop(tenantId);
      entry = await this.load(trx, tenantId, vector.length, version);
      this.makeRoom(entry.bytes);
      this.used += entry.bytes;
    } else this.entries.delete(tenantId);
    this.entries.set(tenantId, entry); // most recently used last
    let allowed: Set<string> | undefined;
    if (filter && Object.keys(filter).length > 0) {
      const docs = await trx('kb_documents')
        .where({ tenant_id: tenantId })
        .whereRaw('metadata @> ?::jsonb', [JSON.stringify(filter)])
        .pluck('id');
      allowed = new Set(docs as string[]);
    }
    return topK(entry, vector, n, allowed);
  }

  private async load(
    trx: Knex.Transaction,
    tenantId: string,
    dims: number,
    version: string,
  ): Promise<TenantVectors> {
    // As text: `{0.1,0.2}` read by JSON.parse is several times faster than pg's array parser.
    const rows = (await trx('kb_chunks as c')
      .join('kb_documents as d', 'd.id', 'c.document_id')
      .where({ 'c.tenant_id': tenantId, 'd.status': 'ready' })
      .whereRaw('cardinality(c.embedding) = ?', [dims])
      .select(
        trx.raw('c.id::text as id'),
        'c.document_id',
        trx.raw('c.embedding::text as embedding'),
      )) as Array<{
      id: string;
      document_id: string;
      embedding: string;
    }>;
    const matrix = new Float32Array(rows.length * dims);
    for (const [i, r] of rows.entries())
      matrix.set(JSON.parse(`[${r.embedding.slice(1, -1)}]`) as number[], i * dims);
    return {
      version,
      dims,
      ids: rows.map((r) => r.id),
      documents: rows.map((r) => r.document_id),
      matrix,
      bytes: matrix.byteLength + rows.length * 100,
    };
  }

  private drop(tenantId: string): void {
    const entry = this.entries.get(tenantId);
    if (!entry) return;
    this.used -= entry.bytes;
    this.entries.delete(tenantId);
  }

  private makeRoom(bytes: number): void {
    for (const tenant of this.entries.keys()) {
      if (this.used + bytes <= this.budgetBytes) break;
      this.drop(tenant);
    }
  }
}

function topK(entry: TenantVectors, q: Float32Array, n: number, allowed?: Set<string>): Ranked[] {
  const { matrix, dims } = entry;
  const best: Ranked[] = [];
  let floor = -Infinity;
  for (let row = 0, off = 0; row < entry.ids.length; row++, off += dims) {
    if (allowed && !allowed.has(entry.documents[row]!)) continue;
    let dot = 0;
    for (let j = 0; j < dims; j++) dot += matrix[off + j]! * q[j]!;
    if (best.length < n || dot > floor) {
      best.push({ id: entry.ids[row]!, score: dot });
      if (best.length > n) {
        best.sort((a, b) => b.score - a.score);
        best.length = n;
      }
      floor = best.length < n ? -Infinity : Math.min(...best.map((b) => b.score));
    }
  }
  return best.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
}

export async function searchVector(
  trx: Knex.Transaction,
  db: Knex,
  cache: VectorCache,
  tenantId: string,
  vector: Float32Array,
  n: number,
  filter?: Record<string, unknown>,
): Promise<Ranked[]> {
  if (vector.length === PGVECTOR_DIMENSIONS && (await hasPgvector(db)))
    return searchPgvector(trx, tenantId, vector, n, filter);
  return cache.search(trx, tenantId, vector, n, filter);
}

/** Reciprocal rank fusion: each list adds 1 / (RRF_K + rank) to the chunks it holds. */
export function fuse(lists: Ranked[][]): Ranked[] {
  const scores = new Map<string, number>();
  for (const list of lists)
    for (const [i, item] of list.entries())
      scores.set(item.id, (scores.get(item.id) ?? 0) + 1 / (RRF_K + i + 1));
  return [...scores.entries()]
    .map(([id, score]) => ({ id, score }))
    .sort((a, b) => b.score - a.score || Number(a.id) - Number(b.id));
}

export async function loadHits(
  trx: Knex.Transaction,
  tenantId: string,
  ids: string[],
): Promise<Map<string, ChunkHit>> {
  if (ids.length === 0) return new Map();
  const rows = (await trx('kb_chunks as c')
    .join('kb_documents as d', 'd.id', 'c.document_id')
    .where('c.tenant_id', tenantId)
    .whereIn('c.id', ids)
    .select(
      trx.raw('c.id::text as id'),
      'c.ordinal',
      'c.text',
      'c.document_id',
      'd.title',
      'd.source_key',
      'd.metadata',
    )) as Array<{
    id: string;
    ordinal: number;
    text: string;
    document_id: string;
    title: string | null;
    source_key: string;
    metadata: Record<string, unknown>;
  }>;
  return new Map(
    rows.map((r) => [
      r.id,
      {
        id: r.id,
        ordinal: r.ordinal,
        text: r.text,
        documentId: r.document_id,
        title: r.title,
        sourceKey: r.source_key,
        metadata: r.metadata,
      },
    ]),
  );
}
