/**
 * A fake Telegram Bot API: `POST /bot<token>/<method>` with JSON or multipart bodies, the real
 * `{ ok, result }` / `{ ok: false, error_code, description, parameters }` envelopes.
 */
import { type FakeReply, type FakeServer, json, type RecordedRequest, startFake } from './server.ts';

export const BOT_TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq';

export function telegramError(
  code: number,
  description: string,
  parameters?: Record<string, unknown>,
): FakeReply {
  return json(code, { ok: false, error_code: code, description, ...(parameters ? { parameters } : {}) });
}

export const telegramFloodWait = (seconds: number) =>
  telegramError(429, `Too Many Requests: retry after ${seconds}`, { retry_after: seconds });

/** Reads a Bot API call's parameters whatever its encoding. */
export async function telegramParams(req: RecordedRequest): Promise<Record<string, unknown>> {
  const type = req.header('content-type') ?? '';
  if (type.startsWith('application/json')) return req.json() as Record<string, unknown>;
  const form = await new Response(req.body, { headers: { 'content-type': type } }).formData();
  const out: Record<string, unknown> = {};
  for (const [key, value] of form)
    out[key] = typeof value === 'string' ? value : { name: value.name, size: value.size };
  return out;
}

let nextMessageId = 100;

function message(chatId: unknown, extra: Record<string, unknown> = {}) {
  const id = typeof chatId === 'string' && /^-?\d+$/.test(chatId) ? Number(chatId) : chatId;
  return { message_id: nextMessageId++, date: 1735689600, chat: { id, type: 'private' }, ...extra };
}

export async function startTelegram(token = BOT_TOKEN): Promise<FakeServer> {
  return startFake(async (req) => {
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(req.path);
    if (!match) return json(404, { ok: false, error_code: 404, description: 'Not Found' });
    if (match[1] !== token) return telegramError(401, 'Unauthorized');
    const params = await telegramParams(req);
    switch (match[2]) {
      case 'sendMessage':
        if (!params['text']) return telegramError(400, 'Bad Request: message text is empty');
        if (String(params['text']).length > 4096)
          return telegramError(400, 'Bad Request: message is too long');
        if (params['chat_id'] === 404) return telegramError(400, 'Bad Request: chat not found');
        return json(200, { ok: true, result: message(params['chat_id'], { text: params['text'] }) });
      case 'sendDocument': {
        const doc = params['document'];
        const name = typeof doc === 'object' && doc !== null ? (doc as { name: string }).name : 'remote.bin';
        return json(200, {
          ok: true,
          result: message(params['chat_id'], { document: { file_id: 'BQACAgIAAxkBAAIB', file_name: name } }),
        });
      }
      case 'setWebhook':
        return json(200, { ok: true, result: true, description: 'Webhook was set' });
      default:
        return json(404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
    }
  });
}
