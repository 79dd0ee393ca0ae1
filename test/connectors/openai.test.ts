import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openai } from '../../connectors/openai/index.ts';
import { DEEPSEEK_KEY, OPENAI_KEY, openaiError, startOpenAI } from '../fakes/openai.ts';
import type { FakeServer } from '../fakes/server.ts';
import { makeTestContext, runAction, type TestContextOptions } from '../hub/context.ts';
import { expectConnectorError, expectHostileHandled } from './hostile.ts';

let fake: FakeServer;
let opts: TestContextOptions;
beforeAll(async () => {
  fake = await startOpenAI();
  opts = {
    baseUrl: `${fake.url}/v1`,
    settings: {
      OPENAI_API_KEY: OPENAI_KEY,
      ATLAS_CONNECTOR_OPENAI_DEEPSEEK_BASE_URL: `${fake.url}/deepseek`,
    },
    secrets: { DEEPSEEK_API_KEY: DEEPSEEK_KEY },
    tenantSettings: { llm: { tokensPerDay: 1_000_000 } },
  };
});
afterAll(() => fake.close());

const tools = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } } },
    },
  },
];
const chatInput = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
  tools,
};
const embedInput = { model: 'text-embedding-3-small', input: ['a', 'bbb'] };
const run = (action: string, input: unknown, extra: TestContextOptions = {}) =>
  runAction(openai, action, input, { ...opts, ...extra });

describe('openai.chat', () => {
  it('returns tool calls the model asks for', async () => {
    const out = await run('chat', chatInput);
    expect(out).toEqual({
      id: 'chatcmpl-fake1',
      model: 'gpt-4o-mini',
      content: null,
      tool_calls: [{ id: 'call_abc123', name: 'get_weather', arguments: '{"city":"Paris"}' }],
      finish_reason: 'tool_calls',
      usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
    });
    const req = fake.requests.at(-1)!;
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.json()).toMatchObject({ model: 'gpt-4o-mini', tools, stream: false });
  });

  it('talks to DeepSeek by base URL and its own key', async () => {
    const out = await run('chat', {
      provider: 'deepseek',
      model: 'deepseek-chat',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(out).toMatchObject({ content: 'echo: hi', finish_reason: 'stop' });
    const req = fake.requests.at(-1)!;
    expect(req.path).toBe('/deepseek/chat/completions');
    expect(req.header('authorization')).toBe(`Bearer ${DEEPSEEK_KEY}`);
  });

  it('maps 429 (retry-after-ms), insufficient_quota, 401 and 400', async () => {
    fake.enqueue(
      openaiError(429, 'rate_limit_exceeded', 'Rate limit reached for gpt-4o-mini', {
        'retry-after-ms': '1500',
        'retry-after': '2',
      }),
    );
    expect(await expectConnectorError(run('chat', chatInput))).toMatchObject({
      kind: 'retryable',
      code: 'rate_limited',
      retryAfterMs: 1500,
    });
    fake.enqueue(openaiError(429, 'rate_limit_exceeded', 'Rate limit reached', { 'retry-after': '3' }));
    expect(await expectConnectorError(run('chat', chatInput))).toMatchObject({ retryAfterMs: 3000 });
    fake.enqueue(openaiError(429, 'insufficient_quota', 'You exceeded your current quota'));
    expect(await expectConnectorError(run('chat', chatInput))).toMatchObject({
      kind: 'fatal',
      code: 'insufficient_quota',
    });
    await expect(
      run('chat', chatInput, { settings: { OPENAI_API_KEY: 'sk-wrongwrongwrongwrongwrong' } }),
    ).rejects.toMatchObject({
      kind: 'auth',
      status: 401,
    });
    fake.enqueue(
      openaiError(400, 'context_length_exceeded', "This model's maximum context length is 128000 tokens."),
    );
    expect(await expectConnectorError(run('chat', chatInput))).toMatchObject({
      kind: 'fatal',
      code: 'context_length_exceeded',
    });
  });

  it('survives hostile answers', async () => {
    await expectHostileHandled(fake, () => run('chat', chatInput), [
      { status: 200, headers: { 'content-type': 'application/json' }, body: '{"choices":[]}' },
      {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"choices":[{"message":{"content":42}}]}',
      },
    ]);
  });
});

describe('openai.embeddings', () => {
  it('returns vectors in input order', async () => {
    const out = await run('embeddings', embedInput);
    expect(out).toMatchObject({
      model: 'text-embedding-3-small',
      embeddings: [
        [1, 0, 0.5],
        [3, 1, 0.5],
      ],
    });
    expect(fake.requests.at(-1)!.json()).toMatchObject({ encoding_format: 'float' });
  });

  it('maps 429, 401 and hostile answers', async () => {
    fake.enqueue(openaiError(429, 'rate_limit_exceeded', 'slow', { 'retry-after': '1' }));
    await expect(run('embeddings', embedInput)).rejects.toMatchObject({
      kind: 'retryable',
      retryAfterMs: 1000,
    });
    await expect(run('embeddings', embedInput, { settings: {} })).rejects.toMatchObject({
      kind: 'auth',
      code: 'token_missing',
    });
    await expectHostileHandled(fake, () => run('embeddings', embedInput), [
      {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"data":[{"index":0,"embedding":[1]}]}',
      },
    ]);
  });

  it('keeps API keys out of audit entries and logs', async () => {
    const { ctx, audit, logs } = makeTestContext(openai, 'chat', opts);
    await openai.actions[0]!.run(ctx, {
      provider: 'deepseek',
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
    });
    await openai.actions[1]!.run(ctx, embedInput);
    const everything = JSON.stringify(audit.entries) + JSON.stringify(logs);
    expect(audit.entries).toHaveLength(2);
    for (const key of [OPENAI_KEY, DEEPSEEK_KEY]) expect(everything).not.toContain(key);
  });
});
