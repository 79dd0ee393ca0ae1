/**
 * The knowledge base: list, read and delete a tenant's documents, and search their chunks.
 * Documents are added by `KB_INGEST` jobs (`POST /v1/jobs`, or `atlas kb ingest`); a search
 * runs the `kb.search` action at once, through the hub (its query embedding is an audited call).
 */
import { searchInput, searchOutput } from '../../../connectors/kb/lib/schemas.ts';
import { deleteDocument, documentView, getDocument, listDocuments } from '../../db/kb-documents.ts';
import { decodeCursor, encodeCursor } from '../../json/cursor.ts';
import { HttpProblem, problem } from '../../problem.ts';
import { tenantOf } from '../context.ts';
import { defineDeleteRoute } from '../delete-route.ts';
import { type AnyRoute, defineRoute } from '../route.ts';
import { callRuntime } from '../runtime-errors.ts';
import { cursorSchema, limitSchema, pageOf, querySchema, uuidParams } from '../schemas.ts';
import type { RouteDeps } from './deps.ts';

const documentSchema = {
  type: 'object',
  required: ['id', 'source', 'title', 'status', 'chunks', 'tokens', 'metadata', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    source: {
      type: 'object',
      properties: { type: { type: 'string' }, key: { type: 'string' } },
      description: 'Where it came from (`text`, `url`, `data`) and its identity.',
    },
    title: { type: ['string', 'null'] },
    contentType: {
      type: ['string', 'null'],
      description: 'The format read: text, markdown, html, pdf, docx, json.',
    },
    contentHash: { type: ['string', 'null'] },
    status: { enum: ['ready', 'failed'] },
    error: {
      type: ['object', 'null'],
      description: 'Why the last ingestion failed (a ready document keeps its previous version).',
    },
    chunks: { type: 'integer' },
    tokens: { type: 'integer' },
    bytes: { type: 'integer' },
    embedding: { type: ['object', 'null'], description: '`{ model, dimensions }`, or null: full text only.' },
    metadata: { type: 'object' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};

interface ListQuery {
  limit: number;
  cursor?: string;
  status?: 'ready' | 'failed';
}

export function kbRoutes({ db, runtime }: RouteDeps): AnyRoute[] {
  return [
    defineRoute<Record<string, string>, ListQuery>({
      method: 'GET',
      path: '/v1/kb/documents',
      operationId: 'listKbDocuments',
      summary: 'List the knowledge base’s documents, last changed first',
      tag: 'kb',
      scope: 'tenant',
      query: querySchema({ limit: limitSchema, cursor: cursorSchema, status: { enum: ['ready', 'failed'] } }),
      responses: { 200: { description: 'A page of documents.', schema: pageOf(documentSchema) } },
      async handler(ctx, { query }) {
        const position = decodeCursor(query.cursor, 'string');
        let before: { at: Date; id: string } | undefined;
        if (position !== undefined) {
          const [at, id] = position.split('|');
          if (!at || !id || Number.isNaN(Date.parse(at)))
            throw problem.badRequest('The cursor is not one this API issued.');
          before = { at: new Date(at), id };
        }
        const rows = await listDocuments(db, tenantOf(ctx), {
          limit: query.limit + 1,
          before,
          status: query.status,
        });
        const items = rows.slice(0, query.limit).map(documentView);
        const last = rows.length > query.limit ? items.at(-1) : undefined;
        ctx.body = last ? { items, nextCursor: encodeCursor(`${last.updatedAt}|${last.id}`) } : { items };
      },
    }),
    defineRoute<{ id: string }>({
      method: 'GET',
      path: '/v1/kb/documents/{id}',
      operationId: 'getKbDocument',
      summary: 'Get a document with its chunks',
      tag: 'kb',
      scope: 'tenant',
      params: uuidParams,
      errors: [404],
      responses: {
        200: {
          description: 'The document and its chunks in order.',
          schema: {
            ...documentSchema,
            required: [...documentSchema.required, 'chunkList'],
            properties: {
              ...documentSchema.properties,
              chunkList: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    ordinal: { type: 'integer' },
                    text: { type: 'string' },
                    tokens: { type: 'integer' },
                    embedded: { type: 'boolean' },
                    metadata: { type: 'object' },
                  },
                },
              },
            },
          },
        },
      },
      async handler(ctx, { params }) {
        const found = await getDocument(db, tenantOf(ctx), params.id);
        if (!found) throw problem.notFound(`There is no document ${params.id}.`);
        ctx.body = {
          ...documentView(found.document),
          chunkList: found.chunks.map((c) => ({
            id: c.id,
            ordinal: c.ordinal,
            text: c.text,
            tokens: c.token_count,
            embedded: c.embedded,
            metadata: c.metadata,
          })),
        };
      },
    }),
    defineDeleteRoute({
      db,
      path: '/v1/kb/documents/{id}',
      operationId: 'deleteKbDocument',
      summary: 'Delete a document and its chunks',
      tag: 'kb',
      params: uuidParams,
      audit: { action: 'kb.documents.delete', entityType: 'kb_document' },
      remove: (tenantId, id, trx) => deleteDocument(db, tenantId, id, trx),
      notFound: (id) => `There is no document ${id}.`,
    }),
    defineRoute<Record<string, string>, Record<string, never>, Record<string, unknown>>({
      method: 'POST',
      path: '/v1/kb/search',
      operationId: 'searchKb',
      summary: 'Search the knowledge base',
      description:
        'The chunks that best answer `query`, with their document, score and rank. `hybrid` (the default) fuses the full-text and vector rankings by reciprocal rank fusion; without an embeddings model in the tenant’s settings it is `text`. When the embeddings provider fails, `hybrid` answers the text ranking with `degraded: embeddings_unavailable`.',
      tag: 'kb',
      scope: 'tenant',
      body: searchInput,
      errors: [422, 502],
      responses: { 200: { description: 'The results, best first.', schema: searchOutput } },
      async handler(ctx, { body }) {
        const result = await callRuntime(() => runtime.callAction(tenantOf(ctx), 'kb.search', body));
        if (result.ok) {
          ctx.body = result.output;
          return;
        }
        const { failure } = result;
        if (failure.kind === 'fatal' && failure.status === undefined)
          throw problem.unprocessable(failure.message, { code: failure.code });
        throw new HttpProblem({
          status: failure.kind === 'retryable' ? 503 : 502,
          title: failure.kind === 'retryable' ? 'Service Unavailable' : 'Bad Gateway',
          detail: `The embeddings provider failed: ${failure.message}`,
          extra: { code: failure.code },
        });
      },
    }),
  ] as AnyRoute[];
}
