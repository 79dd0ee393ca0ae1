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
 * Full text, as the tenant, in one statement. The candidates come from `kb_text_candidates`
 * (migration 221: the GIN index, which row-level security keeps from `atlas_app`'s own
 * queries, for the session's tenant only); they are ranked and read here under row-level
 * security.
 *
 * Chunks holding every word of the query come first (plainto_tsquery joins them with AND: a
 * selective index lookup); ranking reads each candidate's tsvector, so a query of words found
 * in most chunks ranks at most ALL_WORDS_CANDIDATES of them. A question rarely has every word
 * in one chunk: when that finds fewer than `n`, chunks holding any of the words follow. Those
 * are gathered word by word, each list capped so that a word found in most chunks cannot crowd
 * out a rare one, and weighted by the words they hold (a word by the inverse of its list's
 * length: an inverse document frequency at no extra cost). The best SHORTLIST are read and
 * ordered by that weight, then by cover density: a chunk holding the rare words of a question
 * comes before one that repeats its common words. The second part runs only when the first fell short (a one-time filter).
 */
export async function searchText(
  trx: Knex.Transaction,
  _tenantId: string,
  query: string,
  n: number,
  filter?: Record<string, unknown>,
): Promise<Ranked[]> {
  const f = filter && Object.keys(filter).length > 0 ? JSON.stringify(filter) : null;
  const { rows } = await trx.raw<{ rows: Array<{ id: string; score: number }> }>(
    `with input as (select plainto_tsquery('english', ?) as every, cast(? as jsonb) as filter, ?::int as n),
     first as materialized (
       select c.id, ts_rank_cd(c.tsv, i.every) as score
         from input i, kb_chunks c
        where c.id in (select kb_text_candidates(i.every, ?, i.filter))
        order by score desc, c.id
        limit (select n from input)),
     words as materialized (
       select lexeme, quote_literal(lexeme)::tsquery as word
         from (select distinct unnest(tsvector_to_array(to_tsvector('english', ?))) as lexeme limit ${MAX_WORDS}) w
        where (select count(*) from first) < (select n from input)),
     lists as (
       select l.id, 1.0 / count(*) over (partition by w.lexeme) as weight
         from input i, words w,
              kb_text_candidates(w.word, ceil(${RANK_CANDIDATES}.0 / (select count(*) from words))::int, i.filter) as l(id)),
     shortlist as (
       select id, sum(weight) as weight from lists where id not in (select id from first)
        group by id order by weight desc, id limit ?),
     rest as (
       select c.id, ts_rank_cd(c.tsv, (select string_agg(quote_literal(lexeme), ' | ')::tsquery from words)) as score,
              s.weight
         from kb_chunks c join shortlist s on s.id = c.id
        order by s.weight desc, score desc, c.id
        limit (select n from input) - (select count(*) from first))
     select id::text as id, score from (
       select id, score, 0 as part, 0 as weight from first union all select id, score, 1, weight from rest) r
      order by part, weight desc, score desc, id`,
    [query, f, n, Math.max(ALL_WORDS_CANDIDATES, 4 * n), query, Math.max(SHORTLIST, 4 * n)],
  );
  return rows.map((r) => ({ id: r.id, score: Number(r.score) }));
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
