/**
 * A fake OpenAI-compatible API: `POST {base}/chat/completions` and `{base}/embeddings` with
 * `Authorization: Bearer <key>`; errors as `{ error: { message, type, param, code } }`; a
 * tool call when tools are offered and the user asks about the weather.
 */
import { type FakeReply, type FakeServer, json, type RecordedRequest, startFake } from './server.ts';

export const OPENAI_KEY = 'sk-proj-fakeOpenAIKeyForAtlasTests0001';
export const DEEPSEEK_KEY = 'sk-fakeDeepSeekKeyForAtlasTests00002';

export function openaiError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): FakeReply {
  const type = status === 429 ? 'requests' : 'invalid_request_error';
  return json(status, { error: { message, type, param: null, code } }, headers);
}

function completion(body: Record<string, unknown>): Record<string, unknown> {
  const messages = (body['messages'] as Array<{ content?: string }>) ?? [];
  const wantsTool = Array.isArray(body['tools']) && /weather/i.test(messages.at(-1)?.content ?? '');
  const message = wantsTool
    ? {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_abc123',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
        ],
      }
    : { role: 'assistant', content: `echo: ${messages.at(-1)?.content ?? ''}`, refusal: null };
  return {
    id: 'chatcmpl-fake1',
    object: 'chat.completion',
    created: 1735689600,
    model: body['model'],
    choices: [{ index: 0, message, logprobs: null, finish_reason: wantsTool ? 'tool_calls' : 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
  };
}

function embeddings(body: Record<string, unknown>): Record<string, unknown> {
  const inputs = Array.isArray(body['input']) ? body['input'] : [body['input']];
  // Reversed on purpose: clients must order by `index`, not by position.
  const data = inputs
    .map((text, index) => ({ object: 'embedding', index, embedding: [String(text).length, index, 0.5] }))
    .reverse();
  return {
    object: 'list',
    data,
    model: body['model'],
    usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
  };
}

export async function startOpenAI(keys: string[] = [OPENAI_KEY, DEEPSEEK_KEY]): Promise<FakeServer> {
  return startFake((req: RecordedRequest) => {
    const key = (req.header('authorization') ?? '').replace(/^Bearer /, '');
    if (!keys.includes(key)) {
      return openaiError(
        401,
        'invalid_api_key',
        'Incorrect API key provided: sk-****. You can find your API key at https://platform.openai.com/account/api-keys.',
      );
    }
    const body = req.json() as Record<string, unknown>;
    if (req.path.endsWith('/chat/completions')) return json(200, completion(body));
    if (req.path.endsWith('/embeddings')) return json(200, embeddings(body));
    return openaiError(404, 'unknown_url', `Invalid URL (POST ${req.path})`);
  });
}
