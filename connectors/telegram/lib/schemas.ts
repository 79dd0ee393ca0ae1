/** Schemas shared by the Telegram actions. */

export const chatId = {
  description: 'Target chat: a numeric id, or `@channelusername` for public channels.',
  oneOf: [{ type: 'integer' }, { type: 'string', minLength: 1 }],
};

export const message = {
  type: 'object',
  required: ['message_id', 'chat_id', 'date'],
  properties: {
    message_id: { type: 'integer', description: 'Id of the sent message in its chat.' },
    chat_id: { oneOf: [{ type: 'integer' }, { type: 'string' }], description: 'The chat it was sent to.' },
    date: { type: 'integer', description: 'Unix time the message was sent.' },
  },
};

export const parseMode = {
  enum: ['HTML', 'MarkdownV2', 'Markdown'],
  description: 'How Telegram formats the text.',
};
