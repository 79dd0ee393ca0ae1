/**
 * A scripted fake of an OpenAI-compatible `POST {base}/chat/completions`: each request gets
 * the next scripted reply (tool calls or an answer) in the real wire format, and the fake
 * checks what a real provider checks, answering 400 as OpenAI does: the bearer key, tool
 * names (`^[a-zA-Z0-9_-]{1,64}$`), and that every assistant `tool_calls` entry is answered by
 * a `tool` message with its id (and no tool message answers nothing).
 */
import { type FakeReply, json, type RecordedRequest, startFake } from './server.ts';

export const CHAT_KEY = 'sk-proj-fakeChatCompletionsKeyForAtlas01';

export interface ScriptedCall {
  name: string;
  /** An object is sent as its JSON; a string as is (to script malformed arguments). */
  arguments: string | Record<string, unknown>;
  id?: string;
}

export interface ChatRequest {
  model: string;
  messages: Array<{ role: string; content?: string | null; tool_call_id?: string; tool_calls?: WireCall[] }>;
  tools?: Array<{ type: string; function: { name: string; description?: string; parameters?: unknown } }>;
  tool_choice?: unknown;
  temperature?: number;
}

interface WireCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** One scripted turn: what the model "says", given the request (to script on what it saw). */
export type Turn = (
  req: ChatRequest,
) => { message: Record<string, unknown>; finish: string } | { error: FakeReply };

export interface ChatFake {
  /** The API base URL, `.../v1`. */
  url: string;
  /** The parsed body of every chat completion request, in order. */
  requests: ChatRequest[];
  /** The parsed body of every embeddings request, in order. */
  embeddings: EmbeddingsRequest[];
  raw: RecordedRequest[];
  /** Appends turns to the script (one fake serving several tests). */
  enqueue(...turns: Turn[]): void;
  close(): Promise<void>;
}

export interface ChatFakeOptions {
  script: Turn[];
  /** Used once the script is spent (a model that never stops); a 500 otherwise. */
  afterwards?: Turn;
  key?: string;
  /** Tokens each reply reports as used. */
  usage?: { prompt_tokens: number; completion_tokens: number };
  delayMs?: number;
  /**
   * Replaces the answer to the nth embeddings request (1-based), e.g. to fail halfway through
   * a document; `undefined` answers normally.
   */
  embeddingsReply?: (n: number, body: EmbeddingsRequest) => FakeReply | undefined;
}

export interface EmbeddingsRequest {
  model: string;
  input: string | string[];
  dimensions?: number;
  encoding_format?: 'float' | 'base64';
}

/**
 * A deterministic stand-in for an embedding model: each word (lower case, a trailing "s"
 * dropped) adds to one hashed dimension, so texts that share words are close by cosine.
 */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  const v = new Array<number>(dimensions).fill(0);
  for (const raw of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    const word = raw.length > 3 ? raw.replace(/s$/, '') : raw;
    let h = 2166136261;
    for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 16777619);
    v[(h >>> 0) % dimensions]! += 1;
  }
  v[0]! += 0.01; // never the zero vector
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / norm);
}

function embeddingsAnswer(body: EmbeddingsRequest) {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const dims = body.dimensions ?? 1536;
  const data = inputs.map((text, index) => {
    const vector = fakeEmbedding(text, dims);
    const embedding =
      body.encoding_format === 'base64'
        ? Buffer.from(Float32Array.from(vector).buffer).toString('base64')
        : vector;
    return { object: 'embedding', index, embedding };
  });
  const tokens = inputs.reduce((n, t) => n + Math.ceil(t.length / 4), 0);
  return { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

let callSeq = 0;

function completion(
  req: ChatRequest,
  message: Record<string, unknown>,
  finish: string,
  usage: ChatFakeOptions['usage'],
) {
  const u = usage ?? { prompt_tokens: 120, completion_tokens: 30 };
  return {
    id: `chatcmpl-fake${++callSeq}`,
    object: 'chat.completion',
    created: 1735689600,
    model: req.model,
    system_fingerprint: 'fp_fake',
    choices: [{ index: 0, message: { refusal: null, ...message }, logprobs: null, finish_reason: finish }],
    usage: { ...u, total_tokens: u.prompt_tokens + u.completion_tokens },
  };
}

/** A turn in which the model calls tools. */
export function callTools(...calls: ScriptedCall[]): Turn {
  return () => ({
    finish: 'tool_calls',
    message: {
      role: 'assistant',
      content: null,
      tool_calls: calls.map((c) => ({
        id: c.id ?? `call_${(++callSeq).toString(36).padStart(6, '0')}`,
        type: 'function',
        function: {
          name: c.name,
          arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
        },
      })),
    },
  });
}

/** A turn the provider fails, with OpenAI's error body (`rate_limit_exceeded` on a 429). */
export function failTurn(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Turn {
  const type = status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error';
  return () => ({ error: json(status, { error: { message, type, param: null, code } }, headers) });
}

/** A turn in which the model answers. */
export function answer(text: string | ((req: ChatRequest) => string)): Turn {
  return (req) => ({
    finish: 'stop',
    message: { role: 'assistant', content: typeof text === 'string' ? text : text(req) },
  });
}

function invalid(message: string, param: string | null = null) {
  return json(400, { error: { message, type: 'invalid_request_error', param, code: null } });
}

/** What OpenAI rejects in a conversation with tools, or undefined when it would accept it. */
export function wireProblem(body: ChatRequest): string | undefined {
  for (const tool of body.tools ?? []) {
    if (!/^[a-zA-Z0-9_-]{1,64}$/.test(tool.function.name))
      return `Invalid 'tools[].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`;
  }
  if (body.tool_choice !== undefined && !body.tools?.length)
    return "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.";
  const open = new Set<string>();
  for (const m of body.messages) {
    if (m.role === 'tool') {
      if (!m.tool_call_id || !open.delete(m.tool_call_id))
        return "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.";
      continue;
    }
    if (open.size > 0)
      return `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...open].join(', ')}`;
    for (const c of m.tool_calls ?? []) open.add(c.id);
  }
  return undefined;
}

export async function startChatCompletions(opts: ChatFakeOptions): Promise<ChatFake> {
  const requests: ChatRequest[] = [];
  const embeddings: EmbeddingsRequest[] = [];
  const script = [...opts.script];
  const key = opts.key ?? CHAT_KEY;
  const fake = await startFake((req) => {
    if (req.header('authorization') !== `Bearer ${key}`)
      return json(401, {
        error: {
          message: 'Incorrect API key provided.',
          type: 'invalid_request_error',
          param: null,
          code: 'invalid_api_key',
        },
      });
    if (req.method === 'POST' && req.path === '/v1/embeddings') {
      const body = req.json() as EmbeddingsRequest;
      embeddings.push(body);
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      if (
        typeof body.model !== 'string' ||
        inputs.length === 0 ||
        inputs.some((t) => typeof t !== 'string' || t === '')
      )
        return invalid("'input' must be a non-empty string or array of non-empty strings", 'input');
      return opts.embeddingsReply?.(embeddings.length, body) ?? json(200, embeddingsAnswer(body));
    }
    if (req.method !== 'POST' || req.path !== '/v1/chat/completions')
      return json(404, {
        error: { message: `Invalid URL (${req.method} ${req.path})`, type: 'invalid_request_error' },
      });
    const body = req.json() as ChatRequest;
    requests.push(body);
    const problem = wireProblem(body);
    if (problem) return invalid(problem, 'messages');
    const turn = script.shift() ?? opts.afterwards;
    if (!turn) return json(500, { error: { message: 'the fake’s script is spent', type: 'server_error' } });
    const result = turn(body);
    if ('error' in result) return result.error;
    const { message, finish } = result;
    return {
      ...json(200, completion(body, message, finish, opts.usage)),
      ...(opts.delayMs ? { delayMs: opts.delayMs } : {}),
    };
  });
  return {
    url: `${fake.url}/v1`,
    requests,
    embeddings,
    raw: fake.requests,
    enqueue: (...turns) => script.push(...turns),
    close: fake.close,
  };
}
