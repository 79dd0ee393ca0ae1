/**
 * The tenant's files as an action sees them (`ctx.files`): the file service bound to one
 * tenant, with its errors as ConnectorErrors so a step's retry policy can judge them.
 */
import { Readable } from 'node:stream';
import { ConnectorError, type FileAccess } from '../connector-sdk/index.ts';
import { decodeCursor, encodeCursor } from '../json/cursor.ts';
import { FileNotFoundError, FileTooLargeError, QuotaExceededError } from './errors.ts';
import { FileInputError } from './names.ts';
import type { FileService } from './service.ts';
import { ObjectMissingError, StorageUnavailableError } from './storage.ts';

export function makeFileStore(files: FileService) {
  return { forAction: (tenantId: string, actor: string): FileAccess => fileAccess(files, tenantId, actor) };
}

export function fileAccess(files: FileService, tenantId: string, actor: string): FileAccess {
  return {
    put: (input) =>
      guard(async () => {
        const body = input.body instanceof Uint8Array ? Readable.from([input.body]) : input.body;
        return files.upload(tenantId, actor, {
          name: input.name,
          contentType: input.contentType,
          body: input.maxBytes === undefined ? body : capped(body, input.maxBytes),
        });
      }),
    info: (id) => guard(() => files.get(tenantId, id)),
    read: (id, maxBytes) =>
      guard(async () => {
        const info = await files.get(tenantId, id);
        if (info.size > maxBytes) throw new FileTooLargeError(maxBytes);
        const chunks: Buffer[] = [];
        for await (const chunk of await files.open(tenantId, info)) chunks.push(chunk as Buffer);
        return { info, bytes: new Uint8Array(Buffer.concat(chunks)) };
      }),
    url: (id, ttlSeconds) => guard(() => files.signedUrl(tenantId, id, ttlSeconds)),
    list: (query) =>
      guard(async () => {
        let after: string | undefined;
        try {
          after = decodeCursor(query.cursor, 'string');
        } catch {
          throw new FileInputError('The cursor is not one files.list returned.');
        }
        const items = await files.list(tenantId, {
          limit: query.limit,
          ...(query.prefix === undefined ? {} : { prefix: query.prefix }),
          ...(after === undefined ? {} : { after }),
        });
        const last = items.at(-1);
        return {
          items,
          ...(last && items.length === query.limit ? { nextCursor: encodeCursor(last.id) } : {}),
        };
      }),
    delete: (id) => guard(() => files.remove(tenantId, id)),
  };
}

/** Fails the stream once it has carried more than `max` bytes. */
async function* capped(body: AsyncIterable<Uint8Array>, max: number): AsyncIterable<Uint8Array> {
  let seen = 0;
  for await (const chunk of body) {
    seen += chunk.byteLength;
    if (seen > max) throw new FileTooLargeError(max);
    yield chunk;
  }
}

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toConnectorError(err);
  }
}

export function toConnectorError(err: unknown): unknown {
  if (err instanceof ConnectorError) return err;
  if (err instanceof FileNotFoundError || err instanceof ObjectMissingError)
    return ConnectorError.fatal('file_not_found', err.message);
  if (err instanceof FileTooLargeError) return ConnectorError.fatal('file_too_large', err.message);
  if (err instanceof QuotaExceededError) return ConnectorError.fatal('quota_exceeded', err.message);
  if (err instanceof FileInputError) return ConnectorError.fatal('invalid_file', err.message);
  if (err instanceof StorageUnavailableError)
    return ConnectorError.retryable('storage_unavailable', 'file storage is unavailable', {
      retryAfterMs: 5000,
    });
  return err;
}
