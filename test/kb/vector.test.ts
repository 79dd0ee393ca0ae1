/**
 * Vector search paths: the bounded in-process cache, exact SQL over `real[]` (a tenant beyond
 * the cache's budget), and pgvector's HNSW index where the database has the extension.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKbConnector } from '../../connectors/kb/index.ts';
import { openai } from '../../connectors/openai/index.ts';
import type { KbIngestInput, KbSearchInput, KbSearchOutput } from '../../engine/connector-sdk/index.ts';
import { hasPgvector, resetSchemaCache } from '../../engine/db/kb-documents.ts';
import { topK } from '../../engine/db/kb-vector-cache.ts';
import { makeKnowledgeBase } from '../../engine/kb/service.ts';
import { CHAT_KEY, type ChatFake, startChatCompletions } from '../fakes/chat-completions.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { makeTestContext } from '../hub/context.ts';

const database = useTestDatabase();
let chat: ChatFake;

beforeAll(async () => {
  chat = await startChatCompletions({ script: [] });
  await database.db('tenants').insert([
    { id: 'acme', name: 'Acme' },
    { id: 'globex', name: 'Globex' },
  ]);
});

afterAll(async () => {
  await chat.close();
});

function contextFor(kb: ReturnType<typeof makeKnowledgeBase>, tenantId: string, dimensions: number) {
  const connector = makeKbConnector(kb);
  return makeTestContext(connector, 'search', {
    tenantId,
    tenantSettings: { kb: { embeddings: { model: 'text-embedding-3-small', dimensions } } },
    secrets: { OPENAI_API_KEY: CHAT_KEY },
    connectors: [openai],
    baseUrls: { openai: chat.url },
  }).ctx;
}

const TOPICS = [
  'invoices are sent on the first day of each month',
  'the office coffee machine is cleaned on fridays',
  'passwords rotate every ninety days for all staff',
  'parcels leave the warehouse at four in the afternoon',
  'holiday requests need two weeks of notice',
];

describe('exact vector search', () => {
  let cached: ReturnType<typeof makeKnowledgeBase>;
  let sql: ReturnType<typeof makeKnowledgeBase>;
  const ingest = (tenant: string, input: KbIngestInput) =>
    cached.ingest(contextFor(cached, tenant, 64), input);
  const search = (kb: typeof cached, tenant: string, input: KbSearchInput): Promise<KbSearchOutput> =>
    kb.search(contextFor(kb, tenant, 64), input);

  beforeAll(async () => {
    cached = makeKnowledgeBase(database.db, { maxBytes: 1 << 20, vectorCacheBytes: 64 << 20 });
    sql = makeKnowledgeBase(database.db, { maxBytes: 1 << 20, vectorCacheBytes: 0 });
    for (const [i, topic] of TOPICS.entries())
      await ingest('acme', { text: topic, key: `topic-${i}`, metadata: { n: i, even: i % 2 === 0 } });
    await ingest('globex', { text: 'passwords rotate every ninety days', key: 'globex-secret' });
  });

  it('finds the closest chunk, the same from the cache and from SQL', async () => {
    const query = { query: 'how often do passwords rotate', mode: 'vector' as const, k: 3 };
    const fromCache = await search(cached, 'acme', query);
    const fromSql = await search(sql, 'acme', query);
    expect(fromCache.results[0]!.text).toBe(TOPICS[2]);
    expect(fromCache.results.map((r) => [r.chunkId, r.score.toFixed(4)])).toEqual(
      fromSql.results.map((r) => [r.chunkId, r.score.toFixed(4)]),
    );
    expect(cached.cache.bytesUsed).toBeGreaterThan(5 * 64 * 4);
    expect(sql.cache.bytesUsed).toBe(0);
    // Another tenant's identical chunk is never a candidate.
    expect(fromCache.results.every((r) => r.document.source.startsWith('topic-'))).toBe(true);
  });

  it('keeps each embedding as packed big-endian float32 too, which the cache loads exactly', async () => {
    const { rows } = await database.db.raw<{
      rows: Array<{ id: string; embedding: number[]; packed: Buffer }>;
    }>(
      `select id::text, embedding, embedding_f32 as packed from kb_chunks
        where tenant_id = 'acme' and embedding is not null`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(TOPICS.length);
    await search(cached, 'acme', { query: 'load the cache', mode: 'vector' });
    const entry = cached.cache.entry('acme')!;
    expect(entry.ids.length).toBe(rows.length);
    for (const { id, embedding, packed } of rows) {
      const want = Buffer.alloc(embedding.length * 4);
      for (const [i, x] of embedding.entries()) want.writeFloatBE(x, i * 4);
      expect(packed.equals(want)).toBe(true);
      const row = entry.ids.indexOf(id);
      expect(Array.from(entry.matrix.subarray(row * 64, (row + 1) * 64))).toEqual(
        Array.from(Float32Array.from(embedding)),
      );
    }
  });

  it('filters on metadata in both paths', async () => {
    const query = { query: 'passwords rotate', mode: 'vector' as const, k: 5, filter: { even: false } };
    for (const kb of [cached, sql]) {
      const { results } = await search(kb, 'acme', query);
      expect(results.map((r) => r.document.metadata['n']).sort()).toEqual([1, 3]);
    }
  });

  it('sees a changed document at once (the cache is invalidated)', async () => {
    await search(cached, 'acme', { query: 'warm up', mode: 'vector' });
    await ingest('acme', {
      text: 'the coffee machine moved to the kitchen upstairs',
      key: 'topic-1',
      metadata: { n: 1, even: false },
    });
    const { results } = await search(cached, 'acme', {
      query: 'where is the coffee machine kitchen',
      mode: 'vector',
      k: 1,
    });
    expect(results[0]!.text).toBe('the coffee machine moved to the kitchen upstairs');
  });
});

describe('pgvector', () => {
  it('serves 512-dimension searches from the HNSW index where the extension exists', async (ctx) => {
    resetSchemaCache();
    if (!(await hasPgvector(database.db))) {
      ctx.skip('this PostgreSQL has no pgvector extension: the HNSW path is not run here');
      return;
    }
    const kb = makeKnowledgeBase(database.db, { maxBytes: 1 << 20, vectorCacheBytes: 0 });
    for (const [i, topic] of TOPICS.entries())
      await kb.ingest(contextFor(kb, 'globex', 512), { text: topic, key: `pg-${i}` });
    const vec = await database.db.raw(
      `select count(*)::int as n from kb_chunks where embedding_vec is not null`,
    );
    expect(vec.rows[0].n).toBeGreaterThanOrEqual(TOPICS.length);
    const { results } = await kb.search(contextFor(kb, 'globex', 512), {
      query: 'warehouse parcels afternoon',
      mode: 'vector',
      k: 1,
    });
    expect(results[0]!.text).toBe(TOPICS[3]);
  });
});

describe('the in-process top-k', () => {
  it('ranks exactly as a full sort does: any dimension count, a filter, k beyond the rows', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff - 0.5;
    };
    for (const [rows, dims, k] of [
      [500, 61, 10],
      [300, 512, 5],
      [3, 8, 10],
    ] as const) {
      const matrix = Float32Array.from({ length: rows * dims }, random);
      const q = Float32Array.from({ length: dims }, random);
      const ids = Array.from({ length: rows }, (_, i) => String(i));
      const documents = ids.map((i) => `doc-${Number(i) % 7}`);
      const entry = { version: 'v', dims, ids, documents, matrix, bytes: 0 };
      const dot = (r: number) => {
        let s = 0;
        for (let j = 0; j < dims; j++) s += matrix[r * dims + j]! * q[j]!;
        return s;
      };
      const expected = (allowed?: Set<string>) =>
        ids
          .filter((_, r) => !allowed || allowed.has(documents[r]!))
          .map((id) => ({ id, score: dot(Number(id)) }))
          .sort((a, b) => b.score - a.score)
          .slice(0, k);
      const close = (got: Array<{ id: string; score: number }>, want: typeof got) => {
        expect(got.map((g) => g.id)).toEqual(want.map((w) => w.id));
        for (const [i, g] of got.entries()) expect(g.score).toBeCloseTo(want[i]!.score, 4);
      };
      close(topK(entry, q, k), expected());
      const allowed = new Set(['doc-2', 'doc-5']);
      close(topK(entry, q, k, allowed), expected(allowed));
    }
  });
});
