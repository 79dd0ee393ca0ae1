/**
 * The knowledge base: `kb.ingest` (the `KB_INGEST` job) chunks a document into the tenant's
 * knowledge base, `kb.search` finds its chunks (full text, embeddings, or both fused), for
 * workflows and as an agent's tool.
 *
 * As for `agent`, the declaration stands alone (`kb`, which `atlas validate` loads) and the
 * engine registers `makeKbConnector(knowledgeBase)` with the database behind it.
 */
import {
  type ConnectorDefinition,
  ConnectorError,
  defineAction,
  defineConnector,
  type KbIngestInput,
  type KbIngestOutput,
  type KbSearchInput,
  type KbSearchOutput,
  type KnowledgeBase,
} from 'atlas-engine/sdk';
import { ingestInput, ingestOutput, searchInput, searchOutput } from './lib/schemas.ts';

function missing(): never {
  throw ConnectorError.fatal(
    'not_configured',
    'the knowledge base needs the engine’s database (engine/services.ts)',
  );
}

export function makeKbConnector(kb?: KnowledgeBase): ConnectorDefinition {
  return defineConnector({
    id: 'kb',
    description: 'The tenant’s knowledge base: ingest documents, search their chunks.',
    auth: { type: 'none' },
    actions: [
      defineAction<KbIngestInput, KbIngestOutput>({
        id: 'ingest',
        description:
          'Add a document (text, a URL, uploaded bytes) to the knowledge base: text extracted, chunked, embedded when the tenant has an embeddings model.',
        jobType: 'KB_INGEST',
        jobTimeoutMs: 10 * 60_000,
        input: ingestInput,
        output: ingestOutput,
        example: {
          documentId: '00000000-0000-4000-8000-000000000000',
          status: 'created',
          title: 'Refund policy',
          chunks: 3,
          tokens: 1320,
          embedded: true,
        },
        run: (ctx, input) => (kb ? kb.ingest(ctx, input) : missing()),
      }),
      defineAction<KbSearchInput, KbSearchOutput>({
        id: 'search',
        description:
          'Search the knowledge base: the chunks that best answer the query, with their document, score and rank.',
        readOnly: true,
        input: searchInput,
        output: searchOutput,
        example: {
          mode: 'hybrid',
          results: [
            {
              rank: 1,
              score: 0.0328,
              chunkId: '1',
              ordinal: 0,
              text: 'Refunds are paid within 14 days.',
              document: {
                id: '00000000-0000-4000-8000-000000000000',
                title: 'Refund policy',
                source: 'text',
                metadata: {},
              },
            },
          ],
        },
        run: (ctx, input) => (kb ? kb.search(ctx, input) : missing()),
      }),
    ],
  });
}

/** The declaration alone: its actions fail as `not_configured` until the engine supplies a knowledge base. */
export const kb = makeKbConnector();
