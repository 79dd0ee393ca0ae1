// What a stored file is: its record and the service's inputs and answers, its rows, ids and disposition.
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Knex } from 'knex';
import type { FileInfo } from '../connector-sdk/index.ts';
import type { FileRow } from '../db/files.ts';
import type { ByteRange } from './storage.ts';

/** A stored file as the API, the CLI and connectors (`ctx.files`) see it. */
export type FileRecord = FileInfo;

export interface Usage {
  files: number;
  bytes: number;
}

export interface Limits {
  maxFiles: number;
  maxStorageBytes: number;
  maxFileBytes: number;
}

export interface UploadInput {
  name: string;
  /** The declared Content-Type, checked against the bytes. */
  contentType?: string | undefined;
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Readable;
  /** Content-Length when known: a file already too large is refused before it is read. */
  declaredSize?: number;
  /**
   * Commits the row as ready; the API wraps it in its audited transaction. Defaults to a
   * plain transaction.
   */
  commit?: (finish: (trx: Knex.Transaction) => Promise<FileRecord>) => Promise<FileRecord>;
}

export interface ListQuery {
  prefix?: string;
  limit: number;
  /** The id of the last file of the previous page. */
  after?: string;
}

export interface SignedUrl {
  url: string;
  expiresAt: string;
}

export interface OpenedFile {
  record: FileRecord;
  body: Readable;
  range?: ByteRange;
}

export const MAX_URL_TTL_SECONDS = 7 * 24 * 3600;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function toRecord(row: FileRow): FileRecord {
  return {
    id: row.id,
    name: row.name,
    contentType: row.content_type,
    size: Number(row.size),
    sha256: row.sha256,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** Time-ordered ids (UUID version 7): the newest file sorts first, and ids are the cursor. */
export function uuidv7(): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(Date.now(), 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Types a browser may show in place (sandboxed); everything else downloads. */
const INLINE =
  /^(image\/(png|jpeg|gif|webp|avif)|application\/pdf|text\/plain|audio\/[a-z0-9.+-]+|video\/[a-z0-9.+-]+)$/;

export function contentDisposition(record: Pick<FileRecord, 'name' | 'contentType'>): string {
  const kind = INLINE.test(record.contentType.split(';')[0]!) ? 'inline' : 'attachment';
  const ascii = record.name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(record.name)}`;
}
