/**
 * The knowledge base's tables. Every function runs in {@link withTenant}: as `atlas_app` with
 * the tenant set, so row-level security holds even where a query forgot its tenant filter.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { withTenant } from './rls.ts';

export interface DocumentRow {
  id: string;
  tenant_id: string;
  source_type: string;
  source_key: string;
  title: string | null;
  content_type: string | null;
  content_hash: string | null;
  status: 'ready' | 'failed';
  error: { reason: string; message: string } | null;
  chunk_count: number;
  token_count: number;
  byte_count: string | number;
  embedding_model: string | null;
  embedding_dimensions: number | null;
  metadata: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

let pgvector: Promise<boolean> | undefined;

/** Whether `kb_chunks` has the pgvector column (migration 170 adds it where the extension exists). */
export function hasPgvector(db: Knex): Promise<boolean> {
  pgvector ??= db
    .raw(
      `select 1 from information_schema.columns where table_name = 'kb_chunks' and column_name = 'embedding_vec'`,
    )
    .then((r: { rows: unknown[] }) => r.rows.length > 0)
    .catch(() => false);
  return pgvector;
}

/** Forget what was learnt about the schema (tests that add the extension). */
export function resetSchemaCache(): void {
  pgvector = undefined;
}

export const PGVECTOR_DIMENSIONS = 512;

export function findDocument(db: Knex, tenantId: string, key: string): Promise<DocumentRow | undefined> {
  return withTenant(db, tenantId, (trx) =>
    trx<DocumentRow>('kb_documents').where({ tenant_id: tenantId, source_key: key }).first(),
  );
}

export function vectorLiteral(v: Float32Array): string {
  return `[${Array.from(v).join(',')}]`;
}

/**
 * Records why an ingestion failed: a document that had a good version keeps it (and its
 * chunks stay searchable) with the error beside it; a new one is a `failed` row.
 */
/** Clears a document's last error (a re-ingest that found its content unchanged). */
export async function clearDocumentError(db: Knex, tenantId: string, id: string): Promise<void> {
  await withTenant(db, tenantId, (trx) =>
    trx('kb_documents').where({ tenant_id: tenantId, id }).update({ error: null }),
  );
}

export async function recordFailure(
  db: Knex,
  tenantId: string,
  doc: { sourceType: string; sourceKey: string; title: string | null; metadata: Record<string, unknown> },
  error: { reason: string; message: string },
): Promise<void> {
  await withTenant(db, tenantId, async (trx) => {
    const updated = await trx('kb_documents')
      .where({ tenant_id: tenantId, source_key: doc.sourceKey })
      .update({ error: JSON.stringify(error), updated_at: trx.fn.now() });
    if (updated > 0) return;
    await trx('kb_documents').insert({
      id: randomUUID(),
      tenant_id: tenantId,
      source_type: doc.sourceType,
      source_key: doc.sourceKey,
      title: doc.title,
      status: 'failed',
      error: JSON.stringify(error),
      metadata: JSON.stringify(doc.metadata),
    });
  });
}

export interface DocumentView {
  id: string;
  source: { type: string; key: string };
  title: string | null;
  contentType: string | null;
  contentHash: string | null;
  status: 'ready' | 'failed';
  error: { reason: string; message: string } | null;
  chunks: number;
  tokens: number;
  bytes: number;
  embedding: { model: string; dimensions: number } | null;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export function documentView(row: DocumentRow): DocumentView {
  return {
    id: row.id,
    source: { type: row.source_type, key: row.source_key },
    title: row.title,
    contentType: row.content_type,
    contentHash: row.content_hash,
    status: row.status,
    error: row.error,
    chunks: row.chunk_count,
    tokens: row.token_count,
    bytes: Number(row.byte_count),
    embedding:
      row.embedding_model && row.embedding_dimensions
        ? { model: row.embedding_model, dimensions: row.embedding_dimensions }
        : null,
    metadata: row.metadata,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export function listDocuments(
  db: Knex,
  tenantId: string,
  opts: { limit: number; before?: { at: Date; id: string } | undefined; status?: string | undefined },
): Promise<DocumentRow[]> {
  return withTenant(db, tenantId, (trx) => {
    const q = trx<DocumentRow>('kb_documents')
      .where({ tenant_id: tenantId })
      .orderBy([
        { column: 'updated_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(opts.limit);
    if (opts.status) q.andWhere('status', opts.status);
    if (opts.before) q.andWhereRaw('(updated_at, id) < (?, ?)', [opts.before.at, opts.before.id]);
    return q;
  });
}

export function getDocument(
  db: Knex,
  tenantId: string,
  id: string,
): Promise<
  | {
      document: DocumentRow;
      chunks: Array<{
        id: string;
        ordinal: number;
        text: string;
        token_count: number;
        metadata: unknown;
        embedded: boolean;
      }>;
    }
  | undefined
> {
  return withTenant(db, tenantId, async (trx) => {
    const document = await trx<DocumentRow>('kb_documents').where({ tenant_id: tenantId, id }).first();
    if (!document) return undefined;
    const chunks = await trx('kb_chunks')
      .where({ tenant_id: tenantId, document_id: id })
      .orderBy('ordinal')
      .select(
        'id',
        'ordinal',
        'text',
        'token_count',
        'metadata',
        trx.raw('embedding is not null as embedded'),
      );
    return { document, chunks: chunks.map((c) => ({ ...c, id: String(c.id) })) };
  });
}

/** Deletes a document and its chunks; inside `trx` (the API's audited transaction) when given. */
export async function deleteDocument(
  db: Knex,
  tenantId: string,
  id: string,
  trx?: Knex.Transaction,
): Promise<boolean> {
  const remove = async (t: Knex.Transaction) =>
    (await t('kb_documents').where({ tenant_id: tenantId, id }).delete()) > 0;
  return trx ? remove(trx) : withTenant(db, tenantId, remove);
}

/**
 * What the CLI ingested from files, by source key: the sha256 of each file (to skip unchanged
 * ones) and the stored file it was read from.
 */
export async function ingestedFiles(
  trx: Knex.Transaction,
  tenantId: string,
): Promise<Map<string, { sha256: string; fileId: string | null }>> {
  const rows = (await trx('kb_documents')
    .where({ tenant_id: tenantId, status: 'ready' })
    .whereNull('error')
    .select(
      'source_key',
      trx.raw("metadata #>> '{file,sha256}' as sha256"),
      trx.raw("metadata #>> '{file,id}' as file_id"),
    )) as Array<{
    source_key: string;
    sha256: string | null;
    file_id: string | null;
  }>;
  return new Map(rows.map((r) => [r.source_key, { sha256: r.sha256 ?? '', fileId: r.file_id }]));
}
