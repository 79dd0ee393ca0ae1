import { defineConnector } from 'atlas-engine/sdk';
import { mapTelegramError, TOKEN_NAME } from './client.ts';
import { sendDocument } from './lib/actions/send-document.ts';
import { sendMessage } from './lib/actions/send-message.ts';
import { setWebhook } from './lib/actions/set-webhook.ts';

/** Telegram Bot API (https://core.telegram.org/bots/api). */
export const telegram = defineConnector({
  id: 'telegram',
  description: 'Send messages and files with a Telegram bot, and register its webhook.',
  auth: { type: 'secret', secrets: [TOKEN_NAME], envFallback: { [TOKEN_NAME]: TOKEN_NAME } },
  baseUrl: 'https://api.telegram.org',
  settings: [TOKEN_NAME],
  // Telegram's broadcast limits (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
  // about 30 messages per second per bot, and no more than one per second in a single chat.
  rateLimits: [
    { limit: 30, windowMs: 1000 },
    { limit: 1, windowMs: 1000, key: 'chat:{{ chat_id }}', actions: ['sendMessage', 'sendDocument'] },
  ],
  mapError: mapTelegramError,
  actions: [sendMessage, sendDocument, setWebhook],
});
