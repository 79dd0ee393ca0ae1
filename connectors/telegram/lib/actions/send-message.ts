import { defineAction } from 'atlas-engine/sdk';
import { callBot } from '../../client.ts';
import { checkLength, type SentMessage, toSentMessage } from '../message.ts';
import { chatId, message, parseMode } from '../schemas.ts';

export interface SendMessageInput {
  chat_id: number | string;
  text: string;
  parse_mode?: 'HTML' | 'MarkdownV2' | 'Markdown';
  disable_notification?: boolean;
  message_thread_id?: number;
  reply_to_message_id?: number;
  reply_markup?: { inline_keyboard: Array<Array<{ text: string; callback_data?: string; url?: string }>> };
}

export const sendMessage = defineAction<SendMessageInput, SentMessage>({
  id: 'sendMessage',
  description: 'Send a text message to a Telegram chat (1-4096 characters).',
  jobType: 'TELEGRAM_SEND',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['chat_id', 'text'],
    properties: {
      chat_id: chatId,
      text: {
        type: 'string',
        minLength: 1,
        maxLength: 4096,
        description: 'Message text, 1-4096 characters.',
      },
      parse_mode: parseMode,
      disable_notification: { type: 'boolean', description: 'Deliver silently.' },
      message_thread_id: { type: 'integer', description: 'Forum topic to post in.' },
      reply_to_message_id: { type: 'integer', description: 'Message to reply to.' },
      reply_markup: {
        type: 'object',
        additionalProperties: false,
        required: ['inline_keyboard'],
        description:
          'Inline buttons under the message. A press reaches the bot webhook as a `callback_query` carrying the button `callback_data`.',
        properties: {
          inline_keyboard: {
            type: 'array',
            maxItems: 100,
            items: {
              type: 'array',
              maxItems: 8,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['text'],
                properties: {
                  text: { type: 'string', minLength: 1, maxLength: 64 },
                  callback_data: { type: 'string', minLength: 1, maxLength: 64 },
                  url: { type: 'string', pattern: '^https?://' },
                },
              },
            },
          },
        },
        examples: [{ inline_keyboard: [[{ text: 'Approve', callback_data: '{{ run.id }}:approve' }]] }],
      },
    },
  },
  output: message,
  example: { message_id: 42, chat_id: 123456789, date: 1735689600 },
  async run(ctx, input) {
    checkLength('text', input.text, 1, 4096);
    const { reply_to_message_id, ...rest } = input;
    const json = {
      ...rest,
      ...(reply_to_message_id === undefined ? {} : { reply_parameters: { message_id: reply_to_message_id } }),
    };
    return toSentMessage(await callBot(ctx, 'sendMessage', { json }, input.chat_id), 'telegram sendMessage');
  },
});
