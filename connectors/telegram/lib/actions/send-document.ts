import { type ActionContext, ConnectorError, defineAction } from 'atlas-engine/sdk';
import { callBot } from '../../client.ts';
import { checkLength, type SentMessage, toSentMessage } from '../message.ts';
import { chatId, message, parseMode } from '../schemas.ts';

export type DocumentSource =
  | { url: string }
  | { file_id: string }
  | { atlas_file_id: string }
  | { content_base64: string; filename: string; mime_type?: string };

export interface SendDocumentInput {
  chat_id: number | string;
  document: DocumentSource;
  caption?: string;
  parse_mode?: 'HTML' | 'MarkdownV2' | 'Markdown';
  disable_notification?: boolean;
}

/** Bot API upload limit for documents sent by multipart (URLs: 20 MB, fetched by Telegram). */
const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

export const sendDocument = defineAction<SendDocumentInput, SentMessage & { file_id: string }>({
  id: 'sendDocument',
  description: 'Send a file to a Telegram chat: uploaded (multipart), by URL, or by an existing file_id.',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['chat_id', 'document'],
    properties: {
      chat_id: chatId,
      document: {
        description:
          "The file: `{ url }`, `{ file_id }` (Telegram's), `{ atlas_file_id }` (one of the tenant's files, uploaded), " +
          'or `{ content_base64, filename, mime_type? }` to upload.',
        oneOf: [
          {
            type: 'object',
            required: ['url'],
            additionalProperties: false,
            properties: { url: { type: 'string', format: 'uri' } },
          },
          {
            type: 'object',
            required: ['file_id'],
            additionalProperties: false,
            properties: { file_id: { type: 'string' } },
          },
          {
            type: 'object',
            required: ['atlas_file_id'],
            additionalProperties: false,
            properties: {
              atlas_file_id: {
                type: 'string',
                description: "The id of one of the tenant's files (files.put, POST /v1/files).",
              },
            },
          },
          {
            type: 'object',
            required: ['content_base64', 'filename'],
            additionalProperties: false,
            properties: {
              content_base64: { type: 'string', contentEncoding: 'base64' },
              filename: { type: 'string', minLength: 1 },
              mime_type: { type: 'string' },
            },
          },
        ],
      },
      caption: { type: 'string', maxLength: 1024, description: 'Caption, 0-1024 characters.' },
      parse_mode: parseMode,
      disable_notification: { type: 'boolean', description: 'Deliver silently.' },
    },
  },
  output: {
    ...message,
    required: [...message.required, 'file_id'],
    properties: {
      ...message.properties,
      file_id: { type: 'string', description: 'Telegram file id, reusable.' },
    },
  },
  async run(ctx, input) {
    if (input.caption !== undefined) checkLength('caption', input.caption, 0, 1024);
    const { document, ...fields } = input;
    const result = await callBot(
      ctx,
      'sendDocument',
      await requestBody(ctx, fields, document),
      input.chat_id,
    );
    const sent = toSentMessage(result, 'telegram sendDocument');
    const doc = (result as { document?: { file_id?: unknown } }).document;
    if (typeof doc?.file_id !== 'string')
      throw ConnectorError.invalidResponse('telegram sendDocument: no document.file_id');
    return { ...sent, file_id: doc.file_id };
  },
});

/** A URL or file_id goes as JSON; bytes go as multipart/form-data (the only upload form). */
async function requestBody(
  ctx: ActionContext,
  fields: Omit<SendDocumentInput, 'document'>,
  document: DocumentSource,
) {
  if ('url' in document) return { json: { ...fields, document: document.url } };
  if ('file_id' in document) return { json: { ...fields, document: document.file_id } };
  if ('atlas_file_id' in document) {
    if (!ctx.files)
      throw ConnectorError.fatal('files_unavailable', 'file storage is not configured in this engine');
    const { info, bytes } = await ctx.files.read(document.atlas_file_id, MAX_UPLOAD_BYTES);
    return upload(fields, Buffer.from(bytes), info.name, info.contentType);
  }
  const bytes = Buffer.from(document.content_base64, 'base64');
  if (bytes.byteLength > MAX_UPLOAD_BYTES) {
    throw ConnectorError.fatal('file_too_large', 'telegram: documents are limited to 50 MB');
  }
  return upload(fields, bytes, document.filename, document.mime_type ?? 'application/octet-stream');
}

function upload(fields: Omit<SendDocumentInput, 'document'>, bytes: Buffer, filename: string, type: string) {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) form.set(key, String(value));
  form.set('document', new Blob([bytes], { type }), filename);
  return { body: form };
}
