/**
 * Telegram Bot API calls: `POST {base}/bot<token>/<method>`, answers
 * `{ ok: true, result }` or `{ ok: false, error_code, description, parameters }`
 * (https://core.telegram.org/bots/api#making-requests).
 */

import type { ActionContext, ConnectorErrorInit, HttpRequest } from 'atlas-engine/sdk';
import { ConnectorError, credential, credentialMissing, expectRecord, isRecord } from 'atlas-engine/sdk';

export const TOKEN_NAME = 'TELEGRAM_BOT_TOKEN';

/**
 * The tenant's own bot token, else the platform bot when the operator offers it. The platform
 * bot writes only to the chats the operator assigned to the tenant (`telegram.chats` in its
 * settings), and its webhook is the operator's alone: a tenant that moved it would receive
 * every other tenant's updates.
 */
export async function botToken(ctx: ActionContext, method: string, chatId?: unknown): Promise<string> {
  const token = await credential(ctx, TOKEN_NAME);
  if (!token) throw credentialMissing(ctx, TOKEN_NAME);
  if (!token.platform) return token.value;
  if (chatId === undefined)
    throw ConnectorError.fatal(
      'platform_bot_refused',
      `telegram: ${method} is not allowed with the platform bot; store a bot of the tenant's own as ${TOKEN_NAME}`,
    );
  const chats = (await ctx.platform.settings()).telegram?.chats ?? [];
  if (!chats.some((c) => String(c) === String(chatId)))
    throw ConnectorError.fatal(
      'chat_not_assigned',
      `telegram: this tenant may not write to chat ${String(chatId)} with the platform bot; the operator assigns chats in the tenant's settings`,
    );
  return token.value;
}

/**
 * Calls a Bot API method and returns its `result`. `chatId` is the chat a message goes to;
 * methods without one (setWebhook) need the tenant's own bot.
 */
export async function callBot(
  ctx: ActionContext,
  method: string,
  body: Pick<HttpRequest, 'json' | 'body'>,
  chatId?: unknown,
): Promise<unknown> {
  const token = await botToken(ctx, method, chatId);
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
