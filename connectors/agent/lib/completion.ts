/**
 * One model call of the loop: the request, and its answer checked field by field, so a
 * provider that answers 2xx with the wrong shape fails as `invalid_response`, not as a
 * TypeError somewhere in the loop.
 */

import { ConnectorError, expectArray, expectRecord, isRecord } from 'atlas-engine/sdk';
import type OpenAI from 'openai';
import { mapOpenAIError } from '../../openai/client.ts';

export type Message = OpenAI.Chat.Completions.ChatCompletionMessageParam;
export type ToolDefinition = OpenAI.Chat.Completions.ChatCompletionFunctionTool;

export interface ToolCall {
  id: string;
  name: string;
  /** JSON text as the model wrote it: it may not parse. */
  arguments: string;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface Reply {
  model: string;
  content: string | null;
  toolCalls: ToolCall[];
  finishReason: string | null;
  usage: Usage;
}

export interface ModelRequest {
  model: string;
  temperature: number | undefined;
  messages: Message[];
  tools: ToolDefinition[];
  /** `none` on the last turn the limits allow: the model must answer with what it has. */
  toolChoice: 'auto' | 'none';
}

export async function complete(
  client: OpenAI,
  req: ModelRequest,
  signal: AbortSignal,
  provider: string,
): Promise<Reply> {
  let completion: unknown;
  try {
    completion = await client.chat.completions.create(
      {
        model: req.model,
        messages: req.messages,
        ...(req.temperature === undefined ? {} : { temperature: req.temperature }),
        // An agent with no tools sends none: some providers reject an empty list.
        ...(req.tools.length === 0 ? {} : { tools: req.tools, tool_choice: req.toolChoice }),
        stream: false,
      },
      { signal },
    );
  } catch (err) {
    throw mapOpenAIError(err, provider);
  }
  return toReply(completion, provider);
}

function toReply(value: unknown, provider: string): Reply {
  const what = `${provider} chat completion`;
  const completion = expectRecord(value, what);
  const choice = expectRecord(expectArray(completion['choices'], what)[0], `${what} choice`);
  const message = expectRecord(choice['message'], `${what} message`);
  const content = message['content'];
  if (content !== null && content !== undefined && typeof content !== 'string')
    throw ConnectorError.invalidResponse(`${what}: content is not text`);
  const calls = message['tool_calls'] ?? [];
  const toolCalls = expectArray(calls, `${what} tool_calls`).map((call) => toToolCall(call, what));
  return {
    model: typeof completion['model'] === 'string' ? completion['model'] : '',
    content: typeof content === 'string' ? content : null,
    toolCalls,
    finishReason: typeof choice['finish_reason'] === 'string' ? choice['finish_reason'] : null,
    usage: toUsage(completion['usage']),
  };
}

function toToolCall(value: unknown, what: string): ToolCall {
  const call = expectRecord(value, `${what} tool call`);
  const fn = expectRecord(call['function'], `${what} tool call`);
  if (typeof call['id'] !== 'string' || typeof fn['name'] !== 'string')
    throw ConnectorError.invalidResponse(`${what}: a tool call has no id or no name`);
  const args = fn['arguments'];
  return { id: call['id'], name: fn['name'], arguments: typeof args === 'string' ? args : '' };
}

/** A provider that reports no usage counts as zero: the token budget can only count what is reported. */
function toUsage(value: unknown): Usage {
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  if (!isRecord(value)) return { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  const prompt = n(value['prompt_tokens']);
  const completion = n(value['completion_tokens']);
  const total = n(value['total_tokens']) || prompt + completion;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: total };
}

/** The assistant's turn as the next request must repeat it, tool calls included. */
export function assistantMessage(reply: Reply): Message {
  return {
    role: 'assistant',
    content: reply.content,
    ...(reply.toolCalls.length === 0
      ? {}
      : {
          tool_calls: reply.toolCalls.map((c) => ({
            id: c.id,
            type: 'function' as const,
            function: { name: c.name, arguments: c.arguments },
          })),
        }),
  };
}
