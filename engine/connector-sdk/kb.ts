/**
 * What the engine lends the `kb` connector (built in engine/services.ts over the database):
 * the knowledge base of the tenant an action runs for. The connector declares the actions'
 * schemas; the engine (engine/kb/) does the work.
 */
import type { ActionContext } from './types.ts';

export interface KbIngestInput {
  /** Exactly one source. */
  text?: string;
  url?: string;
  /** Uploaded bytes, base64. */
  data?: string;
  /** A stored file's id. */
  fileId?: string;
  /** File name (its extension tells the format when the bytes do not). */
  name?: string;
  contentType?: string;
  /** The document's identity: ingesting the same key again replaces it. */
  key?: string;
  title?: string;
  metadata?: Record<string, unknown>;
}

export interface KbIngestOutput {
  documentId: string;
  status: 'created' | 'updated' | 'unchanged';
  title: string | null;
  chunks: number;
  tokens: number;
  embedded: boolean;
}

export type KbSearchMode = 'hybrid' | 'text' | 'vector';

export interface KbSearchInput {
  query: string;
  k?: number;
  mode?: KbSearchMode;
  /** Documents whose metadata contains this object (JSON containment). */
  filter?: Record<string, unknown>;
}

export interface KbSearchHit {
  rank: number;
  score: number;
  chunkId: string;
  ordinal: number;
  text: string;
  document: { id: string; title: string | null; source: string; metadata: Record<string, unknown> };
}

export interface KbSearchOutput {
  /** The mode used: `hybrid` falls back to `text` while the tenant has no embeddings model. */
  mode: KbSearchMode;
  /** Set when the answer is worse than asked: `embeddings_unavailable`, a hybrid search ranked by text alone. */
  degraded?: 'embeddings_unavailable';
  results: KbSearchHit[];
}

export interface KnowledgeBase {
  ingest(ctx: ActionContext, input: KbIngestInput): Promise<KbIngestOutput>;
  search(ctx: ActionContext, input: KbSearchInput): Promise<KbSearchOutput>;
}
