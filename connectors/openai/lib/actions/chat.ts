import { ConnectorError, defineAction, expectArray, expectRecord, isRecord } from 'atlas-engine/sdk';
import type OpenAI from 'openai';
import { mapOpenAIError, metered, openaiClient, type Provider, providerSchema } from '../../client.ts';

type Message = OpenAI.Chat.Completions.ChatCompletionMessageParam;
type Tool = OpenAI.Chat.Completions.ChatCompletionTool;

export interface ChatInput {
  provider?: Provider;
  model: string;
  messages: Message[];
  tools?: Tool[];
  tool_choice?: OpenAI.Chat.Completions.ChatCompletionToolChoiceOption;
  temperature?: number;
  max_tokens?: number;
  response_format?: { type: 'text' | 'json_object' };
}

export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface ChatOutput {
  id: string;
  model: string;
  content: string | null;
  tool_calls: ToolCall[];
  finish_reason: string | null;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

export const chat = defineAction<ChatInput, ChatOutput>({
  id: 'chat',
  description: 'Chat completion with optional tools (function calling) on OpenAI, DeepSeek or Cerebras.',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['model', 'messages'],
    properties: {
      provider: providerSchema,
      model: { type: 'string', description: 'Model id, e.g. `gpt-4o-mini`, `deepseek-chat`, `llama3.1-8b`.' },
      messages: {
        type: 'array',
        minItems: 1,
        description: 'Conversation: `{ role: system|user|assistant|tool, content, ... }`.',
        items: {
          type: 'object',
          required: ['role'],
          properties: { role: { enum: ['system', 'developer', 'user', 'assistant', 'tool'] } },
        },
      },
      tools: {
        type: 'array',
        description:
          'Functions the model may call: `{ type: "function", function: { name, description, parameters } }`.',
        items: { type: 'object', required: ['type', 'function'] },
      },
      tool_choice: { description: '`auto`, `none`, `required`, or a named function.' },
      temperature: { type: 'number', minimum: 0, maximum: 2, description: 'Sampling temperature.' },
      max_tokens: { type: 'integer', minimum: 1, description: 'Most tokens to generate.' },
      response_format: { type: 'object', description: '`{ type: "json_object" }` for JSON mode.' },
    },
  },
  output: {
    type: 'object',
    required: ['id', 'model', 'content', 'tool_calls', 'finish_reason'],
    properties: {
      id: { type: 'string', description: 'Completion id.' },
      model: { type: 'string', description: 'The model that answered.' },
      content: {
        type: ['string', 'null'],
        description: 'The reply text; null when the model only calls tools.',
      },
      tool_calls: {
        type: 'array',
        description: 'Function calls the model asks for; `arguments` is a JSON string.',
        items: {
          type: 'object',
          required: ['id', 'name', 'arguments'],
          properties: { id: { type: 'string' }, name: { type: 'string' }, arguments: { type: 'string' } },
        },
      },
      finish_reason: { type: ['string', 'null'], description: '`stop`, `tool_calls`, `length`, ...' },
      usage: { type: 'object', description: 'Token counts.' },
    },
  },
  async run(ctx, input) {
    const { provider = 'openai', ...params } = input;
    const { client, platform } = await openaiClient(ctx, provider);
    const completion: unknown = await metered(ctx, platform, async () => {
      try {
        return await client.chat.completions.create({ ...params, stream: false }, { signal: ctx.signal });
      } catch (err) {
        throw mapOpenAIError(err, provider);
      }
    });
    return toOutput(completion, provider);
  },
});

/** The SDK returns whatever JSON arrived; check the fields we promise. */
function toOutput(value: unknown, provider: string): ChatOutput {
  const what = `${provider} chat completion`;
  const completion = expectRecord(value, what);
  const choice = expectRecord(expectArray(completion['choices'], what)[0], `${what} choice`);
  const message = expectRecord(choice['message'], `${what} message`);
  const content = message['content'];
  if (content !== null && content !== undefined && typeof content !== 'string') {
    throw ConnectorError.invalidResponse(`${what}: content is not text`);
  }
  const tool_calls = (Array.isArray(message['tool_calls']) ? message['tool_calls'] : []).map(
    (call): ToolCall => {
      const c = expectRecord(call, `${what} tool call`);
      const fn = expectRecord(c['function'], `${what} tool call`);
      if (typeof c['id'] !== 'string' || typeof fn['name'] !== 'string')
        throw ConnectorError.invalidResponse(`${what}: tool call without id or name`);
      return {
        id: c['id'],
        name: fn['name'],
        arguments: typeof fn['arguments'] === 'string' ? fn['arguments'] : '{}',
      };
    },
  );
  const usage = completion['usage'];
  return {
    id: typeof completion['id'] === 'string' ? completion['id'] : '',
    model: typeof completion['model'] === 'string' ? completion['model'] : '',
    content: typeof content === 'string' ? content : null,
    tool_calls,
    finish_reason: typeof choice['finish_reason'] === 'string' ? choice['finish_reason'] : null,
    ...(isRecord(usage) ? { usage: usage as unknown as NonNullable<ChatOutput['usage']> } : {}),
  };
}
