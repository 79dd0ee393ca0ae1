import { defineAction, type FileInfo, parseDuration } from 'atlas-engine/sdk';
import { fileId, fileInfo, filesOf } from '../schemas.ts';

const MAX_READ = 10 * 1024 * 1024;

export const get = defineAction<
  { id: string; as?: 'text' | 'base64'; maxBytes?: number },
  FileInfo & { text?: string; base64?: string }
>({
  id: 'get',
  description: 'Read a file of the tenant as text or base64 (size-limited).',
  readOnly: true,
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['id'],
    properties: {
      id: fileId,
      as: { enum: ['text', 'base64'], default: 'text', description: 'How the content is returned.' },
      maxBytes: {
        type: 'integer',
        minimum: 1,
        maximum: MAX_READ,
        default: 1024 * 1024,
        description: 'Larger files fail with file_too_large (at most 10 MiB).',
      },
    },
  },
  output: {
    ...fileInfo,
    properties: {
      ...(fileInfo.properties as object),
      text: { type: 'string', description: 'The content as UTF-8 (with as: text).' },
      base64: { type: 'string', description: 'The content, base64-encoded (with as: base64).' },
    },
  },
  async run(ctx, input) {
    const { info, bytes } = await filesOf(ctx).read(input.id, input.maxBytes ?? 1024 * 1024);
    const buffer = Buffer.from(bytes);
    return input.as === 'base64'
      ? { ...info, base64: buffer.toString('base64') }
      : { ...info, text: buffer.toString('utf8') };
  },
});

export const url = defineAction<{ id: string; ttl?: string }, { url: string; expiresAt: string }>({
  id: 'url',
  description:
    'A time-limited download URL of a file that needs no token (15 minutes by default, 7 days at most).',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['id'],
    properties: {
      id: fileId,
      ttl: {
        type: 'string',
        pattern: '^(\\d+(ms|s|m|h|d))+$',
        default: '15m',
        description: 'How long it works: 15m, 2h, 7d.',
      },
    },
  },
  output: {
    type: 'object',
    required: ['url', 'expiresAt'],
    properties: {
      url: { type: 'string', format: 'uri', description: 'The signed URL.' },
      expiresAt: { type: 'string', format: 'date-time', description: 'When it stops working.' },
    },
  },
  async run(ctx, input) {
    const seconds = Math.ceil(parseDuration(input.ttl ?? '15m') / 1000);
    return filesOf(ctx).url(input.id, Math.min(Math.max(seconds, 1), 7 * 86_400));
  },
});

export const list = defineAction<
  { prefix?: string; limit?: number; cursor?: string },
  { items: FileInfo[]; nextCursor?: string }
>({
  id: 'list',
  description: "List the tenant's files, newest first.",
  readOnly: true,
  input: {
    type: 'object',
    additionalProperties: false,
    properties: {
      prefix: { type: 'string', minLength: 1, maxLength: 255, description: 'Only names that start with it.' },
      limit: { type: 'integer', minimum: 1, maximum: 200, default: 50, description: 'Files per page.' },
      cursor: { type: 'string', description: 'The nextCursor of the previous page.' },
    },
  },
  output: {
    type: 'object',
    required: ['items'],
    properties: {
      items: { type: 'array', items: fileInfo, description: 'The files.' },
      nextCursor: { type: 'string', description: 'Pass as cursor for the next page; absent on the last.' },
    },
  },
  async run(ctx, input) {
    return filesOf(ctx).list({
      limit: input.limit ?? 50,
      ...(input.prefix === undefined ? {} : { prefix: input.prefix }),
      ...(input.cursor === undefined ? {} : { cursor: input.cursor }),
    });
  },
});

export const remove = defineAction<{ id: string }, { deleted: true }>({
  id: 'delete',
  description: 'Delete a file of the tenant; its quota share is free at once.',
  input: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: fileId } },
  output: {
    type: 'object',
    required: ['deleted'],
    properties: { deleted: { const: true, description: 'Always true.' } },
  },
  async run(ctx, input) {
    await filesOf(ctx).delete(input.id);
    return { deleted: true };
  },
});
