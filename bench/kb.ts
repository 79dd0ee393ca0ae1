// The knowledge base: ingest throughput (MB of text/s and chunks/s, without embeddings)
// against the raw tokenizer's speed in the same run, then search latency: full text at
// `--text-chunks` chunks (100,000 by default) and exact vector search at `--vector-chunks`
// chunks of 512 dimensions (20,000 by default), from the in-process cache and in SQL.
// Run: npx tsx bench/kb.ts [--mb 10] [--text-chunks 100000] [--vector-chunks 20000] [--queries 200]
import { parseArgs } from 'node:util';
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import type { ActionContext } from '../engine/connector-sdk/index.ts';
import { type Knex, makeDb } from '../engine/db/knex.ts';
import { migrateUp } from '../engine/db/migrate.ts';
import { withTenant } from '../engine/db/rls.ts';
import { chunkText } from '../engine/kb/chunk.ts';
import { makeKnowledgeBase } from '../engine/kb/service.ts';
import { markdown, random, rare, sentence, VOCAB } from './kb-corpus.ts';
import { benchDatabase } from './support.ts';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '10' },
    'text-chunks': { type: 'string', default: '100000' },
    'vector-chunks': { type: 'string', default: '20000' },
    queries: { type: 'string', default: '200' },
    only: { type: 'string' },
  },
});
const MB = Number(values.mb);
const TEXT_CHUNKS = Number(values['text-chunks']);
const VECTOR_CHUNKS = Number(values['vector-chunks']);
const QUERIES = Number(values.queries);
const DIMS = 512;
const part = (name: string) => !values.only || values.only === name;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const fmt = (n: number, digits = 1) => n.toFixed(digits);
const summary = (times: number[]) => {
  const sorted = [...times].sort((a, b) => a - b);
  return `p50 ${fmt(percentile(sorted, 0.5))} ms, p99 ${fmt(percentile(sorted, 0.99))} ms`;
};

/** The id of document `n` (an SQL expression) of a tenant's benchmark documents. */
const docId = (tenant: string, n: string) =>
  `('00000000-0000-4000-${tenant === 'text' ? '8' : '9'}000-' || lpad((${n})::text, 12, '0'))::uuid`;

/** The documents holding `chunks` chunks, 100 each, in one statement. */
async function seedDocuments(db: Knex, tenant: string, chunks: number, dims: number | null): Promise<void> {
  await db.raw(
    `insert into kb_documents (id, tenant_id, source_type, source_key, status, chunk_count, content_hash,
                               embedding_model, embedding_dimensions)
     select ${docId(tenant, 'd')}, ?, 'text', ? || d, 'ready', least(100, ? - d * 100), d::text, ?, ?
       from generate_series(0, (? - 1) / 100) d`,
    [tenant, `${tenant}-`, chunks, dims ? 'bench' : null, dims, chunks],
  );
}

function context(tenantId: string, settings: Record<string, unknown>, embed?: () => number[]): ActionContext {
  return {
    tenantId,
    platform: { settings: async () => settings, checkTokens: async () => {}, spendTokens: async () => {} },
    ...(embed ? { callAction: async () => ({ model: 'bench', embeddings: [embed()] }) } : {}),
  } as unknown as ActionContext;
}

function unitVector(): number[] {
  const v = Array.from({ length: DIMS }, () => random() - 0.5);
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / norm);
}

async function main(): Promise<void> {
  const database = await benchDatabase('atlas_bench_kb');
  const db = makeDb(database.url, { poolSize: 4 });
  try {
    await migrateUp(db, database.url);
    await db('tenants').insert([
      { id: 'ingest', name: 'ingest' },
      { id: 'text', name: 'text' },
      { id: 'vector', name: 'vector' },
    ]);

    const kb = makeKnowledgeBase(db, { maxBytes: 1 << 30, vectorCacheBytes: 256 << 20 });
    let start = performance.now();
    // 1. Ingest: documents of about 50 KB, extracted, chunked and written (no embeddings).
    if (part('ingest')) {
      const docs = Array.from({ length: Math.max(1, Math.round((MB * 1024 * 1024) / 50_000)) }, () =>
        markdown(50_000),
      );
      const totalBytes = docs.reduce((n, d) => n + Buffer.byteLength(d), 0);
      start = performance.now();
      let tokens = 0;
      for (const d of docs) tokens += encode(d).length;
      const rawSeconds = (performance.now() - start) / 1000;
      const ctx = context('ingest', {});
      const mb = totalBytes / 1024 / 1024;
      console.log(`ingest: ${docs.length} documents, ${fmt(mb)} MB, ${tokens} tokens`);
      console.log(`  raw tokenizer (cl100k_base encode): ${fmt(mb / rawSeconds, 2)} MB/s`);
      // PostgreSQL's share, the other baseline: the English tsvector of the same text, in one
      // backend, with no table or index behind it.
      start = performance.now();
      await db.raw(`select sum(length(to_tsvector('english', x))) from unnest(?::text[]) x`, [docs]);
      console.log(
        `  PostgreSQL to_tsvector('english') alone, one backend: ${fmt(mb / ((performance.now() - start) / 1000), 2)} MB/s`,
      );
      // And on two backends at once (half the documents each): what both cores give PostgreSQL.
      start = performance.now();
      await Promise.all(
        [0, 1].map((half) =>
          db.raw(`select sum(length(to_tsvector('english', x))) from unnest(?::text[]) x`, [
            docs.filter((_, i) => i % 2 === half),
          ]),
        ),
      );
      console.log(
        `  PostgreSQL to_tsvector('english') alone, two backends: ${fmt(mb / ((performance.now() - start) / 1000), 2)} MB/s`,
      );
      start = performance.now();
      let chunked = 0;
      for (const text of docs) chunked += (await chunkText(text)).length;
      const chunkSeconds = (performance.now() - start) / 1000;
      console.log(
        `  chunking alone (tokens, headings, overlap): ${fmt(mb / chunkSeconds, 2)} MB/s, ${chunked} chunks`,
      );
      // Sequentially, then as a worker runs KB_INGEST jobs: several at once (PostgreSQL's
      // tsvector and index work overlaps the tokenizer's).
      for (const [round, inFlight] of [1, 4].entries()) {
        const queue = docs.map((text, i) => ({ text, key: `doc-${round}-${i}` }));
        let chunks = 0;
        start = performance.now();
        await Promise.all(
          Array.from({ length: inFlight }, async () => {
            for (let d = queue.shift(); d; d = queue.shift()) {
              const made = (await kb.ingest(ctx, d)).chunks;
              chunks += made;
            }
          }),
        );
        const seconds = (performance.now() - start) / 1000;
        console.log(
          `  ingest, ${inFlight} at a time (extract, chunk, write; no embeddings): ${fmt(mb / seconds, 2)} MB/s, ${fmt(chunks / seconds, 0)} chunks/s (ratio ${fmt(rawSeconds / seconds, 2)} of the raw tokenizer)`,
        );
      }
    }
    // 2. Full-text search at TEXT_CHUNKS chunks of 18 sentences: written 2,000 a statement
    //    (unnest of a text array), two statements at once (the tsvector of each chunk is most
    //    of the work: both cores), and the GIN index built once afterwards.
    if (part('text')) {
      start = performance.now();
      await seedDocuments(db, 'text', TEXT_CHUNKS, null);
      await db.raw('drop index kb_chunks_tsv');
      const BATCH = 2000;
      let next = 0;
      await Promise.all(
        [0, 1].map(async () => {
          for (let from = next; from < TEXT_CHUNKS; from = next) {
            next = from + BATCH;
            const texts = Array.from({ length: Math.min(BATCH, TEXT_CHUNKS - from) }, () =>
              Array.from({ length: 18 }, sentence).join(' '),
            );
            await db.raw(
              `insert into kb_chunks (document_id, tenant_id, ordinal, text, token_count)
               select ${docId('text', 'i / 100')}, 'text', i % 100, t, 400
                 from unnest(?::text[]) with ordinality as u(t, o), lateral (select ? + o::int - 1 as i) n`,
              [texts, from],
            );
          }
        }),
      );
      await db.transaction(async (trx) => {
        await trx.raw(`set local maintenance_work_mem = '256MB'`);
        await trx.raw('create index kb_chunks_tsv on kb_chunks using gin (tsv)');
      });
      await db.raw('vacuum analyze kb_chunks');
      await db.raw('vacuum analyze kb_documents');
      console.log(
        `text search: ${TEXT_CHUNKS} chunks of 18 sentences loaded in ${fmt((performance.now() - start) / 1000)} s`,
      );
      const textCtx = context('text', {});
      const common = () => VOCAB[Math.floor(VOCAB.length * random() ** 2)]!;
      // Three shapes: the usual question (a common word and two rarer ones), and common words
      // alone, whose matches are a large share of all chunks (the costly case to rank).
      const shapes: Array<[string, () => string]> = [
        ['3 words: 1 common, 2 rare', () => `${common()} ${rare()} ${rare()}`],
        ['2 common words', () => `${common()} ${common()}`],
        ['1 common word', common],
      ];
      for (const [label, make] of shapes) {
        const latencies: number[] = [];
        const floor: number[] = [];
        for (let q = 0; q < QUERIES; q++) {
          const query = make();
          let t = performance.now();
          await kb.search(textCtx, { query, mode: 'text', k: 5 });
          latencies.push(performance.now() - t);
          // The baseline, interleaved: one indexed lookup in the same kind of tenant transaction.
          t = performance.now();
          await withTenant(db, 'text', (trx) =>
            trx('kb_chunks')
              .where({ tenant_id: 'text', id: 1 + q })
              .first(),
          );
          floor.push(performance.now() - t);
        }
        console.log(`  ${QUERIES} queries (${label}, k 5): ${summary(latencies)}`);
        console.log(`    baseline, one indexed row in a tenant transaction: ${summary(floor)}`);
      }
    }
    // 3. Exact vector search at VECTOR_CHUNKS chunks of 512 dimensions (unit vectors made in SQL).
    if (part('vector')) {
      start = performance.now();
      await seedDocuments(db, 'vector', VECTOR_CHUNKS, DIMS);
      await db.raw(
        `insert into kb_chunks (document_id, tenant_id, ordinal, text, token_count, embedding)
         select ${docId('vector', 'i / 100')}, 'vector', i % 100, 'chunk ' || i, 20, v.e
           from generate_series(0, ?::int - 1) i,
                lateral (select array_agg(x / norm)::real[] as e
                           from (select x, sqrt(sum(x * x) over ()) as norm
                                   from (select random() - 0.5 as x from generate_series(1, ?) where i >= 0) r) n) v`,
        [VECTOR_CHUNKS, DIMS],
      );
      await db.raw('vacuum analyze kb_chunks');
      await db.raw('vacuum analyze kb_documents');
      console.log(
        `vector search: ${VECTOR_CHUNKS} chunks of ${DIMS} dimensions loaded in ${fmt((performance.now() - start) / 1000)} s`,
      );
      const vecCtx = context(
        'vector',
        { kb: { embeddings: { model: 'bench', dimensions: DIMS } } },
        unitVector,
      );
      const one = async (store: typeof kb) => {
        const t = performance.now();
        await store.search(vecCtx, { query: 'q', mode: 'vector', k: 5 });
        return performance.now() - t;
      };
      const cold = await one(kb);
      // The baseline of the load: the same vectors read as the arrays' text and parsed.
      start = performance.now();
      const asText = await db.raw<{ rows: Array<{ e: string }> }>(
        `select embedding::text as e from kb_chunks where tenant_id = 'vector'`,
      );
      for (const r of asText.rows) JSON.parse(`[${r.e.slice(1, -1)}]`);
      const textLoad = performance.now() - start;
      // The baseline, interleaved: one bare pass over the same vectors (every dot product, no
      // ranking, no database), the least any exact search must do.
      const matrix = new Float32Array(VECTOR_CHUNKS * DIMS).map(() => random() - 0.5);
      const warm: number[] = [];
      const pass: number[] = [];
      for (let q = 0; q < QUERIES; q++) {
        warm.push(await one(kb));
        const v = Float32Array.from(unitVector());
        const t = performance.now();
        let best = -1;
        for (let r = 0; r < VECTOR_CHUNKS; r++) {
          let dot = 0;
          for (let j = 0; j < DIMS; j++) dot += matrix[r * DIMS + j]! * v[j]!;
          if (dot > best) best = dot;
        }
        pass.push(performance.now() - t);
      }
      console.log(
        `  in-process cache (${fmt(kb.cache.bytesUsed / 1024 / 1024)} MB): first query ${fmt(cold)} ms (loads the cache), then ${summary(warm)}`,
      );
      console.log(`  baseline of the load, the same vectors as real[] text parsed: ${fmt(textLoad)} ms`);
      console.log(`  baseline, a bare dot-product pass over ${VECTOR_CHUNKS} x ${DIMS}: ${summary(pass)}`);
      const sqlOnly = makeKnowledgeBase(db, { maxBytes: 1 << 30, vectorCacheBytes: 0 });
      const sqlTimes: number[] = [];
      for (let q = 0; q < Math.min(QUERIES, 10); q++) sqlTimes.push(await one(sqlOnly));
      console.log(`  exact in SQL (no cache), ${sqlTimes.length} queries: ${summary(sqlTimes)}`);
    }
  } finally {
    await db.destroy();
    await database.stop();
  }
}

await main();
