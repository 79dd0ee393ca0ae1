/** Input and output schemas of `kb.ingest` and `kb.search`. */
const metadata = {
  type: 'object',
  description: 'Free-form data kept with the document; searches filter on it.',
};

export const ingestInput = {
  type: 'object',
  additionalProperties: false,
  description: 'Exactly one source: `text`, `url`, `data` (base64 bytes) or `fileId`.',
  oneOf: [{ required: ['text'] }, { required: ['url'] }, { required: ['data'] }, { required: ['fileId'] }],
  properties: {
    text: {
      type: 'string',
      minLength: 1,
      description: 'The document itself, as text (Markdown is understood).',
    },
    url: {
      type: 'string',
      pattern: '^https?://',
      maxLength: 2048,
      description: 'Fetched through the hub: public addresses only, size-limited, redirects checked.',
    },
    data: {
      type: 'string',
      contentEncoding: 'base64',
      minLength: 1,
      description: 'The document’s bytes in base64: PDF, DOCX, HTML, Markdown, JSON or plain text.',
    },
    fileId: { type: 'string', minLength: 1, description: 'A stored file.' },
    name: {
      type: 'string',
      maxLength: 1024,
      description: 'File name; its extension tells the format when the bytes do not.',
    },
    contentType: { type: 'string', maxLength: 255, description: 'MIME type, when known.' },
    key: {
      type: 'string',
      minLength: 1,
      maxLength: 2048,
      description:
        'The document’s identity: ingesting the same key again replaces it (a no-op when the content is unchanged). Default: the URL, or a hash of the content.',
    },
    title: { type: 'string', maxLength: 1024 },
    metadata,
  },
};

export const ingestOutput = {
  type: 'object',
  required: ['documentId', 'status', 'chunks', 'tokens', 'embedded'],
  properties: {
    documentId: { type: 'string', description: 'The document’s id.' },
    status: {
      enum: ['created', 'updated', 'unchanged'],
      description: '`unchanged`: the same content was already ingested; nothing was done.',
    },
    title: { type: ['string', 'null'] },
    chunks: { type: 'integer', minimum: 0 },
    tokens: { type: 'integer', minimum: 0 },
    embedded: { type: 'boolean', description: 'Whether the chunks have embeddings (vector search).' },
  },
};

export const searchInput = {
  type: 'object',
  additionalProperties: false,
  required: ['query'],
  properties: {
    query: {
      type: 'string',
      minLength: 1,
      maxLength: 4000,
      description: 'What to look for, in plain words.',
    },
    k: { type: 'integer', minimum: 1, maximum: 50, default: 5, description: 'How many chunks to return.' },
    mode: {
      enum: ['hybrid', 'text', 'vector'],
      default: 'hybrid',
      description:
        '`hybrid` fuses full-text and vector rankings (reciprocal rank fusion); it is `text` while the tenant has no embeddings model.',
    },
    filter: { ...metadata, description: 'Only documents whose metadata contains this object.' },
  },
};

export const searchOutput = {
  type: 'object',
  required: ['mode', 'results'],
  properties: {
    mode: { enum: ['hybrid', 'text', 'vector'], description: 'The mode used.' },
    degraded: {
      enum: ['embeddings_unavailable'],
      description:
        '`embeddings_unavailable`: the embeddings provider failed, so a hybrid search was ranked by full text alone.',
    },
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['rank', 'score', 'chunkId', 'ordinal', 'text', 'document'],
        properties: {
          rank: { type: 'integer', minimum: 1 },
          score: { type: 'number' },
          chunkId: { type: 'string' },
          ordinal: { type: 'integer', minimum: 0 },
          text: { type: 'string' },
          document: {
            type: 'object',
            required: ['id', 'title', 'source', 'metadata'],
            properties: {
              id: { type: 'string' },
              title: { type: ['string', 'null'] },
              source: {
                type: 'string',
                description: 'The document’s key: its URL, file name or content hash.',
              },
              metadata: { type: 'object' },
            },
          },
        },
      },
    },
  },
};
