/**
 * Search: full text (PostgreSQL `tsvector`, English stemming, any query word may match,
 * ranked by `ts_rank_cd`), vector (exact cosine over unit vectors: pgvector's HNSW index
 * where the database has it, else a bounded in-process cache of the tenant's vectors, else
 * SQL), and hybrid: both rankings fused by reciprocal rank fusion.
 */
import type { Knex } from 'knex';
import { hasPgvector, PGVECTOR_DIMENSIONS, vectorLiteral } from './kb-documents.ts';
import type { VectorCache } from './kb-vector-cache.ts';

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
/** Chunks holding every word of a query that are ranked, at most (more when k asks). */
const ALL_WORDS_CANDIDATES = 200;
/** Chunks holding any word of a query that are read and ranked by cover density, at least. */
const SHORTLIST = 40;
/** Most distinct words of a query looked up one by one. */
const MAX_WORDS = 12;

/** The constant of reciprocal rank fusion (Cormack et al.): 60. */
export const RRF_K = 60;

/**
 * The chunks of a tenant's ready documents (`c`, each with its document `d`) as SQL, ending in
 * a `where`: its one binding is the tenant. Vector search and the vector cache read from it.
 */
export const READY_CHUNKS = `kb_chunks c join kb_documents d on d.id = c.document_id
      where c.tenant_id = ? and d.status = 'ready'`;

/** The metadata filter of a search as SQL. */
export function filterSql(filter: Record<string, unknown> | undefined): { sql: string; bindings: string[] } {
  if (!filter || Object.keys(filter).length === 0) return { sql: '', bindings: [] };
  return { sql: ' and d.metadata @> ?::jsonb', bindings: [JSON.stringify(filter)] };
}

/**
 * Full text, as the tenant. The candidates come from `kb_text_candidates` (migration 221: the
 * GIN index, which row-level security keeps from `atlas_app`'s own queries, for the session's
 * tenant only); they are ranked and read here under row-level security.
 */
export async function searchText(
  trx: Knex.Transaction,
  _tenantId: string,
  query: string,
  n: number,
  filter?: Record<string, unknown>,
): Promise<Ranked[]> {
  const f = filter && Object.keys(filter).length > 0 ? JSON.stringify(filter) : null;
  const rank = async (
    tsquery: string,
    candidates: string,
    bindings: unknown[],
    limit: number,
    exclude: string[],
  ) => {
    const { rows } = await trx.raw<{ rows: Array<{ id: string; score: number }> }>(
      `select c.id::text as id, ts_rank_cd(c.tsv, ${tsquery}) as score
         from kb_chunks c
        where c.id in (${candidates})${exclude.length > 0 ? ' and c.id <> all(?::bigint[])' : ''}
        order by score desc, c.id
        limit ?`,
      [...bindings, ...(exclude.length > 0 ? [exclude] : []), limit] as Knex.RawBinding[],
    );
    return rows.map((r) => ({ id: r.id, score: Number(r.score) }));
  };
  // Chunks holding every word of the query first (plainto_tsquery joins them with AND: a
  // selective index lookup). Ranking reads each candidate's tsvector: words found in most
  // chunks would make a query rank the whole tenant, so at most ALL_WORDS_CANDIDATES are ranked.
  const all = await rank(
    `plainto_tsquery('english', ?)`,
    `select kb_text_candidates(plainto_tsquery('english', ?), ?, ?::jsonb)`,
    [query, query, Math.max(ALL_WORDS_CANDIDATES, 4 * n), f],
    n,
    [],
  );
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
  const perWord = Math.ceil(RANK_CANDIDATES / words.length);
  // Each chunk is weighted by the words it holds, a word by the inverse of its candidates'
  // count (a rare word's list is short: an inverse document frequency at no extra cost); only
  // the best SHORTLIST are read and ranked by cover density, which bounds the tsvectors read.
  const lists = quoted
    .map(
      (_, i) =>
        `(select w${i}.id, 1.0 / count(*) over () as weight from kb_text_candidates(?::tsquery, ?, ?::jsonb) as w${i}(id))`,
    )
    .join(' union all ');
  const exclude = all.map((r) => r.id);
  const shortlist = `select id from (${lists}) l${exclude.length > 0 ? ' where id <> all(?::bigint[])' : ''}
                      group by id order by sum(weight) desc, id limit ${Math.max(SHORTLIST, 4 * n)}`;
  const more = await rank(
    '?::tsquery',
    shortlist,
    [quoted.join(' | '), ...quoted.flatMap((q) => [q, perWord, f]), ...(exclude.length > 0 ? [exclude] : [])],
    n - all.length,
    [],
  );
  return [...all, ...more];
}

/** One vector search: the tenant, the query's unit vector, how many chunks, metadata filters. */
export interface VectorQuery {
  tenantId: string;
  vector: Float32Array;
  n: number;
  filter?: Record<string, unknown> | undefined;
}

/**
 * Cosine search in SQL: through pgvector's index where the database has it, else exact over
 * the `real[]` column (unit vectors: the dot product), for tenants beyond the cache's budget.
 */
export async function searchVectorSql(
  trx: Knex.Transaction,
  { tenantId, vector, n, filter }: VectorQuery,
  pgvector: boolean,
): Promise<Ranked[]> {
  const f = filterSql(filter);
  const literal = pgvector ? vectorLiteral(vector) : `{${Array.from(vector).join(',')}}`;
  // The index orders by the distance expression alone; the exact scan breaks ties by id.
  const [score, usable, order] = pgvector
    ? ['1 - (c.embedding_vec <=> ?::vector)', 'c.embedding_vec is not null', 'c.embedding_vec <=> ?::vector']
    : [
        '(select sum(a * b) from unnest(c.embedding, ?::real[]) as t(a, b))',
        'cardinality(c.embedding) = ?',
        'score desc, c.id',
      ];
  const { rows } = await trx.raw<{ rows: Array<{ id: string; score: number }> }>(
    `select c.id::text as id, ${score} as score
       from ${READY_CHUNKS} and ${usable}${f.sql}
      order by ${order}
      limit ?`,
    pgvector
      ? [literal, tenantId, ...f.bindings, literal, n]
      : [literal, tenantId, vector.length, ...f.bindings, n],
  );
  return rows.map((r) => ({ id: r.id, score: Number(r.score) }));
}

export async function searchVector(
  trx: Knex.Transaction,
  db: Knex,
  cache: VectorCache,
  query: VectorQuery,
): Promise<Ranked[]> {
  if (query.vector.length === PGVECTOR_DIMENSIONS && (await hasPgvector(db)))
    return searchVectorSql(trx, query, true);
  return cache.search(trx, query);
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
