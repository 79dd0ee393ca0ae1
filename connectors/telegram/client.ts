/**
 * Telegram Bot API calls: `POST {base}/bot<token>/<method>`, answers
 * `{ ok: true, result }` or `{ ok: false, error_code, description, parameters }`
 * (https://core.telegram.org/bots/api#making-requests).
 */

import type { ActionContext, ConnectorErrorInit, HttpRequest } from '../../engine/connector-sdk/index.ts';
import { ConnectorError } from '../../engine/connector-sdk/index.ts';
import { expectRecord, isRecord } from '../../engine/connector-sdk/response.ts';

export const TOKEN_NAME = 'TELEGRAM_BOT_TOKEN';

/** The tenant's own bot token wins over the platform bot from the environment. */
export async function botToken(ctx: ActionContext): Promise<string> {
  const token = (await ctx.secret(TOKEN_NAME)) ?? ctx.config.settings[TOKEN_NAME];
  if (!token)
    throw ConnectorError.auth(
      'token_missing',
      `${TOKEN_NAME} is set neither as a tenant secret nor in the environment`,
    );
  return token;
}

/** Calls a Bot API method and returns its `result`. */
export async function callBot(
  ctx: ActionContext,
  method: string,
  body: Pick<HttpRequest, 'json' | 'body'>,
): Promise<unknown> {
  const token = await botToken(ctx);
  const res = await ctx.http.request({ method: 'POST', url: `/bot${token}/${method}`, ...body });
  const answer = expectRecord(res.json(), `telegram ${method}`);
  // Telegram always says `ok`; a 200 without it is not the Bot API.
  if (answer['ok'] !== true)
    throw ConnectorError.invalidResponse(`telegram ${method}: answer has no "ok": true`);
  return answer['result'];
}

/**
 * Refines the hub's status mapping with the Bot API error body: `parameters.retry_after`
 * (seconds) on flood control, `migrate_to_chat_id` when a group became a supergroup, and
 * the 403s that mean the bot can no longer write to the chat.
 */
export function mapTelegramError(status: number, body: unknown): Partial<ConnectorErrorInit> | undefined {
  if (!isRecord(body)) return undefined;
  const description = typeof body['description'] === 'string' ? body['description'] : undefined;
  const parameters = isRecord(body['parameters']) ? body['parameters'] : {};
  const retryAfter = parameters['retry_after'];
  if (typeof retryAfter === 'number' && retryAfter >= 0) {
    return { kind: 'retryable', code: 'rate_limited', retryAfterMs: Math.min(retryAfter, 3600) * 1000 };
  }
  if (typeof parameters['migrate_to_chat_id'] === 'number') {
    return {
      kind: 'fatal',
      code: 'chat_migrated',
      message: `telegram: the group moved to supergroup ${parameters['migrate_to_chat_id']}; update the chat id`,
    };
  }
  if (status === 403)
    return { code: 'bot_forbidden', ...(description ? { message: `telegram: ${description}` } : {}) };
  return description ? { message: `telegram: HTTP ${status}: ${description}` } : undefined;
}
