// The knowledge base: ingest throughput (MB of text/s and chunks/s, without embeddings)
// against the raw tokenizer's speed in the same run, then search latency: full text at
// `--text-chunks` chunks (100,000 by default) and exact vector search at `--vector-chunks`
// chunks of 512 dimensions (20,000 by default), from the in-process cache and in SQL.
// Run: npx tsx bench/kb.ts [--mb 10] [--text-chunks 100000] [--vector-chunks 20000] [--queries 200]
import { parseArgs } from 'node:util';
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import type { ActionContext } from '../engine/connector-sdk/index.ts';
import { makeDb } from '../engine/db/knex.ts';
import { migrateUp } from '../engine/db/migrate.ts';
import { chunkText } from '../engine/kb/chunk.ts';
import { makeKnowledgeBase } from '../engine/kb/service.ts';
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

// Prose-like text from a vocabulary of common English words with a Zipf-like frequency:
// it tokenizes and indexes like real documents, without shipping a corpus.
let seed = 42;
const random = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const WORDS =
  `the of and to in is that for it as with was on be by this are from at or an have not which but all were when we there can more if their has one will about would so been other its into some these what them only time than also may two any new first then people could after over most where very many through back years way work even well because each should while state part both under made life same another such between great every world year own need own public used place long still right system point group number order few course case fact hand high small large local policy service customer refund invoice payment account order shipping warehouse parcel delivery product price plan seat team office staff manager support ticket email report data file document contract supplier client project budget meeting training laptop badge holiday request approval security password access network server backup process quality safety incident review release schedule deadline month week day hour morning evening note letter form card bank transfer tax rate discount offer sale market share growth revenue cost profit loss target goal risk issue change update version feature bug test deploy build code design research legal compliance audit privacy consent record archive storage region country city address phone`.split(
    ' ',
  );
// Beside them, 20,000 rarer terms (names, codes, jargon), one word in six: a real corpus's
// vocabulary is large, and queries name at least one of its rarer words.
const syllables = [
  'ka',
  'lo',
  'mi',
  'ne',
  'ru',
  'sa',
  'ti',
  'vo',
  'pe',
  'da',
  'gu',
  'ha',
  'ze',
  'bo',
  'fi',
  'wu',
];
const RARE = Array.from({ length: 20_000 }, (_, i) => {
  let w = '';
  for (let n = i + 4096; n > 0; n = Math.floor(n / 16)) w += syllables[n % 16];
  return w;
});
const VOCAB = WORDS;
const rare = () => RARE[Math.floor(RARE.length * random())]!;
const word = () => (random() < 1 / 6 ? rare() : VOCAB[Math.floor(VOCAB.length * random() ** 2)]!);
const sentence = () => {
  const n = 8 + Math.floor(random() * 12);
  const s = Array.from({ length: n }, word).join(' ');
  return `${s[0]!.toUpperCase()}${s.slice(1)}.`;
};
function markdown(bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  let section = 0;
  while (size < bytes) {
    const part =
      random() < 0.1
        ? `## Section ${++section} ${word()}`
        : Array.from({ length: 4 + Math.floor(random() * 4) }, sentence).join(' ');
    parts.push(part);
    size += part.length + 2;
  }
  return parts.join('\n\n');
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const fmt = (n: number, digits = 1) => n.toFixed(digits);

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
    const perDoc = 100;
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
      start = performance.now();
      let chunked = 0;
      for (const text of docs) chunked += chunkText(text).length;
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
    // 2. Full-text search at TEXT_CHUNKS chunks (written directly: 100 chunks per document).
    if (part('text')) {
      start = performance.now();
      for (let d = 0; d * perDoc < TEXT_CHUNKS; d++) {
        const id = `00000000-0000-4000-8000-${String(d).padStart(12, '0')}`;
        const n = Math.min(perDoc, TEXT_CHUNKS - d * perDoc);
        await db('kb_documents').insert({
          id,
          tenant_id: 'text',
          source_type: 'text',
          source_key: `bench-${d}`,
          status: 'ready',
          chunk_count: n,
          content_hash: String(d),
        });
        const rows = Array.from({ length: n }, (_, ordinal) => {
          const text = Array.from({ length: 18 }, sentence).join(' ');
          return { document_id: id, tenant_id: 'text', ordinal, text, token_count: 450 };
        });
        await db('kb_chunks').insert(rows);
      }
      await db.raw('vacuum analyze kb_chunks');
      console.log(
        `text search: ${TEXT_CHUNKS} chunks of about 450 tokens loaded in ${fmt((performance.now() - start) / 1000)} s`,
      );
      const textCtx = context('text', {});
      const latencies: number[] = [];
      for (let q = 0; q < QUERIES; q++) {
        const query = `${VOCAB[Math.floor(VOCAB.length * random() ** 2)]} ${rare()} ${rare()}`;
        const t = performance.now();
        await kb.search(textCtx, { query, mode: 'text', k: 5 });
        latencies.push(performance.now() - t);
      }
      latencies.sort((a, b) => a - b);
      console.log(
        `  ${QUERIES} queries (3 words, k 5): p50 ${fmt(percentile(latencies, 0.5))} ms, p99 ${fmt(percentile(latencies, 0.99))} ms`,
      );
    }
    // 3. Exact vector search at VECTOR_CHUNKS chunks of 512 dimensions.
    if (part('vector')) {
      start = performance.now();
      for (let d = 0; d * perDoc < VECTOR_CHUNKS; d++) {
        const id = `00000000-0000-4000-9000-${String(d).padStart(12, '0')}`;
        const n = Math.min(perDoc, VECTOR_CHUNKS - d * perDoc);
        await db('kb_documents').insert({
          id,
          tenant_id: 'vector',
          source_type: 'text',
          source_key: `vec-${d}`,
          status: 'ready',
          chunk_count: n,
          content_hash: String(d),
          embedding_model: 'bench',
          embedding_dimensions: DIMS,
        });
        const rows = Array.from({ length: n }, (_, ordinal) => ({
          document_id: id,
          tenant_id: 'vector',
          ordinal,
          text: sentence(),
          token_count: 20,
          embedding: unitVector(),
        }));
        await db('kb_chunks').insert(rows);
      }
      console.log(
        `vector search: ${VECTOR_CHUNKS} chunks of ${DIMS} dimensions loaded in ${fmt((performance.now() - start) / 1000)} s`,
      );
      const vecCtx = context(
        'vector',
        { kb: { embeddings: { model: 'bench', dimensions: DIMS } } },
        unitVector,
      );
      const measure = async (store: typeof kb, count: number) => {
        const times: number[] = [];
        for (let q = 0; q < count; q++) {
          const t = performance.now();
          await store.search(vecCtx, { query: 'q', mode: 'vector', k: 5 });
          times.push(performance.now() - t);
        }
        return times.sort((a, b) => a - b);
      };
      const cold = await measure(kb, 1);
      const warm = await measure(kb, QUERIES);
      console.log(
        `  in-process cache (${fmt(kb.cache.bytesUsed / 1024 / 1024)} MB): first query ${fmt(cold[0]!)} ms (loads the cache), then p50 ${fmt(percentile(warm, 0.5))} ms, p99 ${fmt(percentile(warm, 0.99))} ms`,
      );
      const sqlOnly = makeKnowledgeBase(db, { maxBytes: 1 << 30, vectorCacheBytes: 0 });
      const sqlTimes = await measure(sqlOnly, Math.min(QUERIES, 20));
      console.log(
        `  exact in SQL (no cache): p50 ${fmt(percentile(sqlTimes, 0.5))} ms, p99 ${fmt(percentile(sqlTimes, 0.99))} ms over ${sqlTimes.length} queries`,
      );
    }
  } finally {
    await db.destroy();
    await database.stop();
  }
}

await main();
