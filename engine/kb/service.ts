/**
 * The knowledge base behind the `kb` connector: ingestion (source → text → chunks →
 * embeddings → one transaction) and search, for the tenant an action runs for.
 *
 * Embeddings are made by the `openai` connector (`ctx.callAction('openai.embeddings')`: the
 * tenant's key or the platform's, rate limits, audit), with the model the operator set in the
 * tenant's settings (`kb.embeddings`); without one, documents are searched by full text only.
 * They are computed before the write transaction opens, so a provider failing halfway leaves
 * the previous version of the document in place and searchable.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import {
  type ActionContext,
  ConnectorError,
  type KbIngestInput,
  type KbIngestOutput,
  type KbSearchHit,
  type KbSearchInput,
  type KbSearchOutput,
  type KnowledgeBase,
} from '../connector-sdk/index.ts';
import { clearDocumentError, findDocument, recordFailure } from '../db/kb-documents.ts';
import { saveDocument } from '../db/kb-save.ts';
import { fuse, loadHits, type Ranked, searchText, searchVector } from '../db/kb-search.ts';
import { VectorCache } from '../db/kb-vector-cache.ts';
import { withTenant } from '../db/rls.ts';
import { type ChunkOptions, chunkText, DEFAULT_CHUNKING } from './chunk.ts';
import { DEFAULT_LIMITS, DocumentError, type ExtractLimits, extract } from './extract.ts';
import { sourceFor } from './sources.ts';

export interface KnowledgeBaseOptions {
  /** Largest document accepted, in bytes (ATLAS_KB_MAX_BYTES). */
  maxBytes: number;
  /** Memory the exact vector search may hold, in bytes (ATLAS_KB_VECTOR_CACHE). */
  vectorCacheBytes: number;
  chunking?: ChunkOptions;
  limits?: ExtractLimits;
  /** Texts per embeddings request. */
  embeddingBatch?: number;
}

export interface EmbeddingSettings {
  provider: string;
  model: string;
  dimensions: number;
}

export const DEFAULT_DIMENSIONS = 512;
/** Most chunks one document may have. */
export const MAX_CHUNKS = 20_000;

/** The tenant's embeddings model from its admin-only settings (`kb.embeddings`), if any. */
export async function embeddingSettings(ctx: ActionContext): Promise<EmbeddingSettings | undefined> {
  const settings = await ctx.platform.settings();
  const kb = settings['kb'] as { embeddings?: Partial<EmbeddingSettings> } | undefined;
  const e = kb?.embeddings;
  if (!e || typeof e.model !== 'string' || e.model === '') return undefined;
  const dimensions = Number.isInteger(e.dimensions) && e.dimensions! > 0 ? e.dimensions! : DEFAULT_DIMENSIONS;
  return { provider: typeof e.provider === 'string' ? e.provider : 'openai', model: e.model, dimensions };
}

function unit(vector: number[]): Float32Array {
  const out = Float32Array.from(vector);
  let norm = 0;
  for (const x of out) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < out.length; i++) out[i]! /= norm;
  return out;
}

async function embed(
  ctx: ActionContext,
  e: EmbeddingSettings,
  texts: string[],
  batch: number,
): Promise<Float32Array[]> {
  if (!ctx.callAction)
    throw ConnectorError.fatal('not_configured', 'embeddings need the engine’s callAction');
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += batch) {
    const input = texts.slice(i, i + batch);
    const answer = (await ctx.callAction('openai.embeddings', {
      provider: e.provider,
      model: e.model,
      input,
      dimensions: e.dimensions,
    })) as { embeddings: number[][] };
    for (const v of answer.embeddings) {
      if (v.length !== e.dimensions)
        throw ConnectorError.fatal(
          'dimension_mismatch',
          `${e.model} answered vectors of ${v.length} dimensions; the tenant's settings ask for ${e.dimensions}`,
        );
      out.push(unit(v));
    }
  }
  return out;
}

function failureOf(err: unknown): { reason: string; message: string } {
  if (err instanceof DocumentError) return { reason: err.reason, message: err.message };
  const found = ConnectorError.find(err);
  if (found) return { reason: found.code, message: found.message };
  return { reason: 'internal', message: (err as Error)?.message ?? String(err) };
}

export function makeKnowledgeBase(
  db: Knex,
  opts: KnowledgeBaseOptions,
): KnowledgeBase & { cache: VectorCache } {
  const chunking = opts.chunking ?? DEFAULT_CHUNKING;
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const batch = opts.embeddingBatch ?? 64;
  const cache = new VectorCache(opts.vectorCacheBytes);

  async function ingest(ctx: ActionContext, input: KbIngestInput): Promise<KbIngestOutput> {
    const source = sourceFor(input);
    const metadata = input.metadata ?? {};
    const fallbackKey = input.key ?? input.url ?? (input.name ? `name:${input.name}` : undefined);
    let key = fallbackKey;
    const fail = async (err: unknown): Promise<never> => {
      const failure = failureOf(err);
      if (key)
        await recordFailure(
          db,
          ctx.tenantId,
          { sourceType: source.type, sourceKey: key, title: input.title ?? null, metadata },
          failure,
        );
      if (err instanceof DocumentError)
        throw ConnectorError.fatal(
          err.reason,
          `${input.name ?? input.url ?? 'the document'}: ${err.message}`,
        );
      throw err;
    };
    try {
      const loaded = await source.load(ctx, input, opts.maxBytes);
      key = loaded.key;
      const extracted = await extract(loaded.bytes, {
        ...(loaded.name ? { name: loaded.name } : {}),
        ...(loaded.contentType ? { contentType: loaded.contentType } : {}),
        limits,
      });
      const embeddings = await embeddingSettings(ctx);
      const title = input.title ?? extracted.title ?? loaded.name ?? null;
      const hash = createHash('sha256')
        .update(
          JSON.stringify([
            extracted.text,
            chunking,
            embeddings ? [embeddings.model, embeddings.dimensions] : null,
            title,
            metadata,
          ]),
        )
        .digest('hex');
      const existing = await findDocument(db, ctx.tenantId, loaded.key);
      if (existing?.status === 'ready' && existing.content_hash === hash) {
        if (existing.error) await clearDocumentError(db, ctx.tenantId, existing.id);
        return {
          documentId: existing.id,
          status: 'unchanged',
          title: existing.title,
          chunks: existing.chunk_count,
          tokens: existing.token_count,
          embedded: existing.embedding_model !== null,
        };
      }
      const chunks = await chunkText(extracted.text, chunking);
      if (chunks.length > MAX_CHUNKS)
        throw new DocumentError(
          'too_large',
          `the document makes ${chunks.length} chunks; at most ${MAX_CHUNKS} are kept`,
        );
      const vectors = embeddings
        ? await embed(
            ctx,
            embeddings,
            chunks.map((c) => c.text),
            batch,
          )
        : undefined;
      const tokens = chunks.reduce((sum, c) => sum + c.tokens, 0);
      const saved = await saveDocument(db, ctx.tenantId, {
        sourceType: loaded.type,
        sourceKey: loaded.key,
        title,
        contentType: extracted.kind,
        contentHash: hash,
        bytes: loaded.bytes.length,
        tokens,
        embeddingModel: embeddings?.model ?? null,
        dimensions: embeddings?.dimensions ?? null,
        metadata,
        chunks: chunks.map((c, i) => ({
          text: c.text,
          tokens: c.tokens,
          ...(vectors ? { embedding: vectors[i]! } : {}),
          metadata: c.heading ? { heading: c.heading } : {},
        })),
      });
      return {
        documentId: saved.id,
        status: saved.created ? 'created' : 'updated',
        title,
        chunks: chunks.length,
        tokens,
        embedded: vectors !== undefined,
      };
    } catch (err) {
      return fail(err);
    }
  }

  async function search(ctx: ActionContext, input: KbSearchInput): Promise<KbSearchOutput> {
    const k = input.k ?? 5;
    const requested = input.mode ?? 'hybrid';
    const embeddings = requested === 'text' ? undefined : await embeddingSettings(ctx);
    if (requested === 'vector' && !embeddings)
      throw ConnectorError.fatal(
        'not_configured',
        'vector search needs an embeddings model in the tenant’s settings (kb.embeddings)',
      );
    let mode = embeddings ? requested : 'text';
    let degraded: KbSearchOutput['degraded'];
    let query: Float32Array | undefined;
    if (embeddings && mode !== 'text') {
      try {
        query = (await embed(ctx, embeddings, [input.query], 1))[0]!;
      } catch (err) {
        // Hybrid search still has the text ranking: answer with it, and say so. Vector search
        // alone has nothing to fall back to.
        if (mode === 'vector' || !ConnectorError.find(err)) throw err;
        mode = 'text';
        degraded = 'embeddings_unavailable';
      }
    }
    const candidates = mode === 'hybrid' ? Math.max(4 * k, 40) : k;
    return withTenant(db, ctx.tenantId, async (trx) => {
      const lists: Ranked[][] = [];
      if (mode !== 'vector')
        lists.push(await searchText(trx, ctx.tenantId, input.query, candidates, input.filter));
      if (query)
        lists.push(
          await searchVector(trx, db, cache, {
            tenantId: ctx.tenantId,
            vector: query,
            n: candidates,
            filter: input.filter,
          }),
        );
      const ranked = (mode === 'hybrid' ? fuse(lists) : lists[0]!).slice(0, k);
      const hits = await loadHits(
        trx,
        ctx.tenantId,
        ranked.map((r) => r.id),
      );
      const results: KbSearchHit[] = [];
      for (const r of ranked) {
        const hit = hits.get(r.id);
        if (!hit) continue;
        results.push({
          rank: results.length + 1,
          score: Number(r.score.toFixed(6)),
          chunkId: hit.id,
          ordinal: hit.ordinal,
          text: hit.text,
          document: { id: hit.documentId, title: hit.title, source: hit.sourceKey, metadata: hit.metadata },
        });
      }
      return degraded ? { mode, degraded, results } : { mode, results };
    });
  }

  return { ingest, search, cache };
}
