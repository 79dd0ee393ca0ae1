import { ConnectorError, defineAction, expectArray, expectRecord } from 'atlas-engine/sdk';
import { mapOpenAIError, metered, openaiClient, type Provider, providerSchema } from '../../client.ts';

export interface EmbeddingsInput {
  provider?: Provider;
  model: string;
  input: string | string[];
  dimensions?: number;
}

export interface EmbeddingsOutput {
  model: string;
  embeddings: number[][];
  usage?: { prompt_tokens: number; total_tokens: number };
}

export const embeddings = defineAction<EmbeddingsInput, EmbeddingsOutput>({
  id: 'embeddings',
  description: 'Embed one text or a batch of texts as vectors.',
  readOnly: true,
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['model', 'input'],
    properties: {
      provider: providerSchema,
      model: { type: 'string', description: 'Embedding model, e.g. `text-embedding-3-small`.' },
      input: {
        description: 'A text or up to 2048 texts.',
        oneOf: [
          { type: 'string', minLength: 1 },
          { type: 'array', minItems: 1, maxItems: 2048, items: { type: 'string', minLength: 1 } },
        ],
      },
      dimensions: { type: 'integer', minimum: 1, description: 'Shorten vectors (text-embedding-3 models).' },
    },
  },
  output: {
    type: 'object',
    required: ['model', 'embeddings'],
    properties: {
      model: { type: 'string', description: 'The model used.' },
      embeddings: {
        type: 'array',
        description: 'One vector per input text, in input order.',
        items: { type: 'array', items: { type: 'number' } },
      },
      usage: { type: 'object', description: 'Token counts.' },
    },
  },
  async run(ctx, input) {
    const { provider = 'openai', ...params } = input;
    const { client, platform } = await openaiClient(ctx, provider);
    const answer: unknown = await metered(ctx, platform, async () => {
      try {
        // Floats, not the SDK's default base64: every provider speaks floats, and the answer is checked below.
        return await client.embeddings.create(
          { ...params, encoding_format: 'float' },
          { signal: ctx.signal },
        );
      } catch (err) {
        throw mapOpenAIError(err, provider);
      }
    });
    return toOutput(answer, provider, Array.isArray(input.input) ? input.input.length : 1);
  },
});

function toOutput(value: unknown, provider: string, expected: number): EmbeddingsOutput {
  const what = `${provider} embeddings`;
  const answer = expectRecord(value, what);
  const rows = expectArray(answer['data'], what).map((row) => expectRecord(row, what));
  if (rows.length !== expected)
    throw ConnectorError.invalidResponse(`${what}: ${rows.length} vectors for ${expected} inputs`);
  // Providers may answer out of order; `index` says which input each vector belongs to.
  rows.sort((a, b) => Number(a['index'] ?? 0) - Number(b['index'] ?? 0));
  const vectors = rows.map((row) => {
    const vector = expectArray(row['embedding'], what);
    if (!vector.every((n) => typeof n === 'number'))
      throw ConnectorError.invalidResponse(`${what}: vector is not numeric`);
    return vector as number[];
  });
  const usage = answer['usage'] as EmbeddingsOutput['usage'] | undefined;
  return {
    model: typeof answer['model'] === 'string' ? answer['model'] : '',
    embeddings: vectors,
    ...(usage ? { usage } : {}),
  };
}
