/**
 * Writing a knowledge-base document's version: the row and all its chunks in one transaction,
 * as the tenant (row-level security holds).
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { type DocumentRow, hasPgvector, PGVECTOR_DIMENSIONS, vectorLiteral } from './kb-documents.ts';
import { withTenant } from './rls.ts';

export interface NewChunk {
  text: string;
  tokens: number;
  embedding?: Float32Array;
  metadata: Record<string, unknown>;
}

export interface DocumentVersion {
  sourceType: string;
  sourceKey: string;
  title: string | null;
  contentType: string;
  contentHash: string;
  bytes: number;
  tokens: number;
  embeddingModel: string | null;
  dimensions: number | null;
  metadata: Record<string, unknown>;
  chunks: NewChunk[];
}

/**
 * Writes a document's new version: the row and all its chunks in one transaction, the old
 * chunks deleted in the same one. Until it commits, searches see the previous version.
 */
export async function saveDocument(
  db: Knex,
  tenantId: string,
  v: DocumentVersion,
): Promise<{ id: string; created: boolean }> {
  const vectorColumn = await hasPgvector(db);
  return withTenant(db, tenantId, async (trx) => {
    const existing = await trx<DocumentRow>('kb_documents')
      .where({ tenant_id: tenantId, source_key: v.sourceKey })
      .forUpdate()
      .first();
    const id = existing?.id ?? randomUUID();
    const row = {
      source_type: v.sourceType,
      title: v.title,
      content_type: v.contentType,
      content_hash: v.contentHash,
      status: 'ready',
      error: null,
      chunk_count: v.chunks.length,
      token_count: v.tokens,
      byte_count: v.bytes,
      embedding_model: v.embeddingModel,
      embedding_dimensions: v.dimensions,
      metadata: JSON.stringify(v.metadata),
      updated_at: trx.fn.now(),
    };
    if (existing) {
      await trx('kb_documents').where({ tenant_id: tenantId, id }).update(row);
      await trx('kb_chunks').where({ tenant_id: tenantId, document_id: id }).delete();
    } else {
      await trx('kb_documents').insert({ id, tenant_id: tenantId, source_key: v.sourceKey, ...row });
    }
    await insertChunks(trx, tenantId, id, v.chunks, vectorColumn);
    return { id, created: !existing };
  });
}

/**
 * All of a document's chunks in one statement: one array parameter per column, unnested
 * server-side (a statement of rows would bind seven parameters a chunk and cap at 65,535).
 * Embeddings travel as array literals, cast to `real[]` (and `vector`) per row.
 */
async function insertChunks(
  trx: Knex.Transaction,
  tenantId: string,
  documentId: string,
  chunks: NewChunk[],
  vectorColumn: boolean,
): Promise<void> {
  if (chunks.length === 0) return;
  const embeddings = chunks.map((c) => (c.embedding ? `{${Array.from(c.embedding).join(',')}}` : null));
  const vectors = vectorColumn
    ? [
        chunks.map((c) =>
          c.embedding && c.embedding.length === PGVECTOR_DIMENSIONS ? vectorLiteral(c.embedding) : null,
        ),
      ]
    : [];
  await trx.raw(
    `insert into kb_chunks (document_id, tenant_id, ordinal, text, token_count, metadata, embedding${vectorColumn ? ', embedding_vec' : ''})
     select ?, ?, u.o - 1, u.t, u.n, u.m, u.e::real[]${vectorColumn ? ', u.v::vector' : ''}
       from unnest(?::text[], ?::int[], ?::jsonb[], ?::text[]${vectorColumn ? ', ?::text[]' : ''})
            with ordinality as u(t, n, m, e${vectorColumn ? ', v' : ''}, o)`,
    [
      documentId,
      tenantId,
      chunks.map((c) => c.text),
      chunks.map((c) => c.tokens),
      chunks.map((c) => JSON.stringify(c.metadata)),
      embeddings,
      ...vectors,
    ] as Knex.RawBinding[],
  );
}
