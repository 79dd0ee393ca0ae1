/**
 * Writing a document's version: all its chunks in one statement, whatever their number, each
 * column exactly as given (text with quotes, backslashes, braces and non-ASCII; metadata;
 * embeddings), in order.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type NewChunk, saveDocument } from '../../engine/db/kb-save.ts';
import { useTestDatabase } from '../helpers/db.ts';

const database = useTestDatabase();

beforeAll(async () => {
  await database.db('tenants').insert({ id: 'acme', name: 'Acme' });
});

const version = (key: string, chunks: NewChunk[]) => ({
  sourceType: 'text',
  sourceKey: key,
  title: null,
  contentType: 'text/plain',
  contentHash: key,
  bytes: 1,
  tokens: chunks.length,
  embeddingModel: null,
  dimensions: null,
  metadata: {},
  chunks,
});

describe('saveDocument', () => {
  it('writes 1,200 chunks in one statement, each exactly as given', async () => {
    const { db } = database;
    const chunks: NewChunk[] = Array.from({ length: 1200 }, (_, i) => ({
      text: `chunk ${i}: "quoted", back\\slash, {braces}, comma, é ✓ \n newline`,
      tokens: i + 1,
      metadata: i % 2 ? { heading: `Section "${i}" \\ {x}` } : {},
      ...(i % 3 === 0 ? { embedding: Float32Array.from([i / 7, -0.5, 1e-7]) } : {}),
    }));
    const statements: string[] = [];
    const watch = (q: { sql: string }) => {
      if (/insert into "?kb_chunks/i.test(q.sql)) statements.push(q.sql);
    };
    db.on('query', watch);
    try {
      await saveDocument(db, 'acme', version('big', chunks));
    } finally {
      db.off('query', watch);
    }
    expect(statements).toHaveLength(1);
    const rows = await db('kb_chunks')
      .where({ tenant_id: 'acme' })
      .orderBy('ordinal')
      .select('ordinal', 'text', 'token_count', 'metadata', 'embedding');
    expect(rows).toHaveLength(1200);
    for (const [i, row] of rows.entries()) {
      const c = chunks[i]!;
      // real[] is float4: compared as float32, as it was given.
      const embedding = row.embedding ? Array.from(Float32Array.from(row.embedding as number[])) : null;
      expect({ ...row, embedding }).toEqual({
        ordinal: i,
        text: c.text,
        token_count: c.tokens,
        metadata: c.metadata,
        embedding: c.embedding ? Array.from(c.embedding) : null,
      });
    }
  });

  it('replaces the chunks of a changed document, and writes a document of none', async () => {
    const { db } = database;
    await saveDocument(db, 'acme', version('small', [{ text: 'one', tokens: 1, metadata: {} }]));
    const { id } = await saveDocument(db, 'acme', version('small', []));
    expect(await db('kb_chunks').where({ document_id: id }).select('id')).toEqual([]);
  });
});
