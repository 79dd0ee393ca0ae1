/**
 * Files: upload (multipart or a raw body), list with usage and limits, metadata, signed
 * download URLs, and delete. `POST /v1/files` is the one route that reads a body other than
 * JSON; it is bounded by the file limits, not ATLAS_BODY_LIMIT. `GET /v1/files/{id}/content`
 * serves the local driver's signed URLs without a token (the signature is the authority).
 */
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { recordAudit } from '../../db/audit.ts';
import { FileInputError } from '../../files/names.ts';
import {
  contentDisposition,
  FileNotFoundError,
  type FileRecord,
  type FileService,
  FileTooLargeError,
  MAX_URL_TTL_SECONDS,
  QuotaExceededError,
} from '../../files/service.ts';
import type { ByteRange } from '../../files/storage.ts';
import { ObjectMissingError, StorageUnavailableError } from '../../files/storage.ts';
import { decodeCursor, encodeCursor } from '../../json/cursor.ts';
import { HttpProblem, problem } from '../../problem.ts';
import type { ApiContext } from '../context.ts';
import { principalOf, tenantOf } from '../context.ts';
import { auditedTransaction } from '../plugins/audit.ts';
import { type AnyRoute, defineRoute, type JsonSchema } from '../route.ts';
import { cursorSchema, limitSchema, type PageQuery, uuidParams } from '../schemas.ts';
import type { RouteDeps } from './deps.ts';

export const fileSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'contentType', 'size', 'sha256', 'createdBy', 'createdAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string', description: 'The label given at upload (no path).' },
    contentType: { type: 'string', description: 'Checked against the bytes at upload.' },
    size: { type: 'integer', description: 'Bytes.' },
    sha256: { type: 'string', description: 'Hex digest of the bytes.' },
    createdBy: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
};

const usageSchema: JsonSchema = {
  type: 'object',
  required: ['files', 'bytes'],
  properties: { files: { type: 'integer' }, bytes: { type: 'integer' } },
};

const limitsSchema: JsonSchema = {
  type: 'object',
  required: ['maxFiles', 'maxStorageBytes', 'maxFileBytes'],
  properties: {
    maxFiles: { type: 'integer' },
    maxStorageBytes: { type: 'integer' },
    maxFileBytes: { type: 'integer' },
  },
};

const TTL = '^(\\d{1,7})(s|m|h|d)?$';
const TTL_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `900`, `15m`, `2h`, `7d` as seconds; 400 beyond 7 days. */
export function parseTtl(raw: string | undefined): number {
  if (raw === undefined) return 900;
  const match = new RegExp(TTL).exec(raw);
  const seconds = match ? Number(match[1]) * TTL_UNITS[match[2] ?? 's']! : Number.NaN;
  if (!(seconds >= 1 && seconds <= MAX_URL_TTL_SECONDS)) {
    throw problem.badRequest(`ttl must be from 1s to 7d (got "${raw}").`);
  }
  return seconds;
}

/** The service's errors as problems; anything else goes on to the 500 handler. */
export function fileProblem(err: unknown): unknown {
  if (err instanceof FileInputError) {
    const title = { 400: 'Bad Request', 413: 'Content Too Large', 415: 'Unsupported Media Type' }[err.status];
    return new HttpProblem({ status: err.status, title, detail: err.message });
  }
  if (err instanceof FileTooLargeError) {
    return new HttpProblem({
      status: 413,
      title: 'Content Too Large',
      detail: err.message,
      extra: { reason: 'file_too_large', maxFileBytes: err.limitBytes },
    });
  }
  if (err instanceof QuotaExceededError) {
    return new HttpProblem({
      status: 409,
      title: 'Conflict',
      detail: err.message,
      extra: { reason: 'quota_exceeded', usage: err.usage, limits: err.limits },
    });
  }
  if (err instanceof FileNotFoundError || err instanceof ObjectMissingError)
    return problem.notFound(err.message);
  if (err instanceof StorageUnavailableError) {
    return new HttpProblem({
      status: 503,
      title: 'Service Unavailable',
      detail: 'File storage is unavailable; try again shortly.',
      headers: { 'retry-after': '5' },
    });
  }
  return err;
}

async function mapped<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw fileProblem(err);
  }
}

/** Largest multipart overhead (boundaries, part headers) accepted beyond the file limit. */
const FORM_OVERHEAD = 64 * 1024;

interface ListQuery extends PageQuery {
  prefix?: string;
}

export function fileRoutes({ db }: RouteDeps, files: FileService): AnyRoute[] {
  const upload = defineRoute<Record<string, string>, { name?: string }>({
    method: 'POST',
    path: '/v1/files',
    operationId: 'uploadFile',
    summary: 'Upload a file (multipart form or raw body)',
    description:
      'A `multipart/form-data` body with one file part (its filename is the name unless `name` is given), ' +
      'or the raw bytes with `?name=`. Streamed to storage; bounded by the file and quota limits, not ATLAS_BODY_LIMIT. ' +
      'A declared content type the bytes contradict is refused (415).',
    tag: 'files',
    scope: 'tenant',
    query: {
      type: 'object',
      additionalProperties: false,
      properties: { name: { type: 'string', minLength: 1, maxLength: 1024, description: 'The file name.' } },
    },
    requestBody: {
      required: true,
      content: {
        'multipart/form-data': {
          schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } } },
        },
        'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
      },
    },
    errors: [409, 413, 415, 503],
    audit: { action: 'files.put', entityType: 'file' },
    responses: {
      201: { description: 'Stored.', schema: fileSchema, headers: { Location: 'The file.' } },
    },
    async handler(ctx, { query }) {
      const tenantId = tenantOf(ctx);
      const actor = principalOf(ctx).sub;
      const commit = (finish: (trx: import('knex').Knex.Transaction) => Promise<FileRecord>) =>
        auditedTransaction(
          ctx,
          db,
          201,
          async (trx) => {
            const record = await finish(trx);
            if (ctx.state.audit)
              ctx.state.audit.summary = {
                name: record.name,
                size: record.size,
                contentType: record.contentType,
              };
            return record;
          },
          (record) => record.id,
        );
      const limits = await files.limits(tenantId);
      const length = ctx.get('content-length');
      const declaredSize = length === '' ? undefined : Number(length);
      const type = ctx.get('content-type');
      let record: FileRecord;
      if (/^multipart\/form-data/i.test(type)) {
        if (declaredSize !== undefined && declaredSize > limits.maxFileBytes + FORM_OVERHEAD)
          throw fileProblem(new FileTooLargeError(limits.maxFileBytes));
        record = await mapped(
          fromForm(ctx, (file, filename, mimeType) =>
            files.upload(tenantId, actor, {
              name: query.name ?? filename,
              contentType: mimeType,
              body: file,
              commit,
            }),
          ),
        );
      } else {
        if (query.name === undefined)
          throw problem.badRequest('Name the file with ?name= (or send a multipart form with a filename).');
        if (declaredSize === 0) throw problem.badRequest('The file is empty.');
        record = await mapped(
          files.upload(tenantId, actor, {
            name: query.name,
            contentType: type === '' ? undefined : type,
            body: ctx.req,
            ...(declaredSize === undefined ? {} : { declaredSize }),
            commit,
          }),
        );
      }
      ctx.status = 201;
      ctx.set('location', `/v1/files/${record.id}`);
      ctx.body = record;
    },
  });

  const list = defineRoute<Record<string, string>, ListQuery>({
    method: 'GET',
    path: '/v1/files',
    operationId: 'listFiles',
    summary: "List the tenant's files, newest first, with its usage and limits",
    tag: 'files',
    scope: 'tenant',
    query: {
      type: 'object',
      additionalProperties: false,
      properties: {
        prefix: { type: 'string', minLength: 1, maxLength: 255, description: 'Only names starting with it.' },
        limit: limitSchema,
        cursor: cursorSchema,
      },
    },
    responses: {
      200: {
        description: 'A page of files, the usage and the limits.',
        schema: {
          type: 'object',
          required: ['items', 'usage', 'limits'],
          properties: {
            items: { type: 'array', items: fileSchema },
            nextCursor: {
              type: 'string',
              description: 'Pass as `cursor` for the next page; absent on the last.',
            },
            usage: usageSchema,
            limits: limitsSchema,
          },
        },
      },
    },
    async handler(ctx, { query }) {
      const tenantId = tenantOf(ctx);
      const after = decodeCursor(query.cursor, 'string');
      const [items, usage, limits] = await Promise.all([
        files.list(tenantId, {
          limit: query.limit,
          ...(query.prefix === undefined ? {} : { prefix: query.prefix }),
          ...(after === undefined ? {} : { after }),
        }),
        files.usage(tenantId),
        files.limits(tenantId),
      ]);
      const last = items.at(-1);
      ctx.body = {
        items,
        ...(last && items.length === query.limit ? { nextCursor: encodeCursor(last.id) } : {}),
        usage,
        limits,
      };
    },
  });

  const metadata = defineRoute<{ id: string }>({
    method: 'GET',
    path: '/v1/files/{id}',
    operationId: 'getFile',
    summary: "A file's metadata",
    tag: 'files',
    scope: 'tenant',
    params: uuidParams,
    responses: { 200: { description: 'The file.', schema: fileSchema } },
    async handler(ctx, { params }) {
      ctx.body = await mapped(files.get(tenantOf(ctx), params.id));
    },
  });

  const url = defineRoute<{ id: string }, { ttl?: string }>({
    method: 'GET',
    path: '/v1/files/{id}/url',
    operationId: 'getFileUrl',
    summary: 'A time-limited download URL that needs no token',
    description:
      'Valid for `ttl` (seconds, or 15m, 2h, 7d; 15 minutes by default, 7 days at most). With the s3 driver a ' +
      'presigned GET of the bucket; with the local driver an HMAC-signed Atlas URL. Neither exposes a credential.',
    tag: 'files',
    scope: 'tenant',
    params: uuidParams,
    query: {
      type: 'object',
      additionalProperties: false,
      properties: { ttl: { type: 'string', pattern: TTL, description: 'How long the URL works.' } },
    },
    responses: {
      200: {
        description: 'The URL and when it expires.',
        schema: {
          type: 'object',
          required: ['url', 'expiresAt'],
          properties: {
            url: { type: 'string', format: 'uri' },
            expiresAt: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
    errors: [503],
    async handler(ctx, { params, query }) {
      const tenantId = tenantOf(ctx);
      const ttl = parseTtl(query.ttl);
      const signed = await mapped(files.signedUrl(tenantId, params.id, ttl));
      await recordAudit(db, {
        tenantId,
        actor: principalOf(ctx).sub,
        action: 'files.url',
        entityType: 'file',
        entityId: params.id,
        requestId: ctx.state.requestId,
        status: 200,
        result: 'ok',
        summary: { ttlSeconds: ttl, expiresAt: signed.expiresAt },
      });
      ctx.body = signed;
    },
  });

  const content = defineRoute<{ id: string }, { expires: string; signature: string }>({
    method: 'GET',
    path: '/v1/files/{id}/content',
    operationId: 'downloadFile',
    summary: 'Download a file through a signed URL (no token)',
    description:
      'The URL `GET /v1/files/{id}/url` hands out with the local driver. Supports `Range: bytes=...` (206). ' +
      "An expired, altered or other file's signature is a 403.",
    tag: 'files',
    scope: 'public',
    params: uuidParams,
    query: {
      type: 'object',
      required: ['expires', 'signature'],
      additionalProperties: false,
      properties: {
        expires: { type: 'string', pattern: '^\\d{1,12}$' },
        signature: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,100}$' },
      },
    },
    responses: {
      200: {
        description: 'The bytes.',
        contentType: 'application/octet-stream',
        schema: { type: 'string', format: 'binary' },
      },
      206: {
        description: 'The requested range.',
        contentType: 'application/octet-stream',
        schema: { type: 'string', format: 'binary' },
      },
    },
    errors: [403, 416, 503],
    async handler(ctx, { params, query }) {
      if (!files.verifySignature(params.id, Number(query.expires), query.signature)) {
        throw problem.forbidden('The link has expired or its signature does not match.');
      }
      const found = await files.recordById(params.id);
      if (!found) throw problem.notFound('The file no longer exists.');
      const { record, tenantId } = found;
      const range = parseRange(ctx.get('range'), record.size);
      // Recorded before the first byte leaves, so no download goes unaudited.
      await recordAudit(db, {
        tenantId,
        actor: 'signed-url',
        action: 'files.download',
        entityType: 'file',
        entityId: record.id,
        requestId: ctx.state.requestId,
        status: range ? 206 : 200,
        result: 'ok',
        summary: range ? { range: `${range.start}-${range.end}` } : {},
      });
      // HEAD answers the headers only: no stream is opened that nobody would read.
      const body: Readable | null =
        ctx.method === 'HEAD' ? null : await mapped(files.open(tenantId, record, range));
      ctx.set('accept-ranges', 'bytes');
      ctx.set('content-disposition', contentDisposition(record));
      ctx.set('x-content-type-options', 'nosniff');
      ctx.set('content-security-policy', "sandbox; default-src 'none'");
      ctx.set('cache-control', 'private, no-store');
      ctx.set('etag', `"${record.sha256}"`);
      ctx.body = body;
      ctx.type = record.contentType;
      if (range) {
        ctx.status = 206;
        ctx.set('content-range', `bytes ${range.start}-${range.end}/${record.size}`);
        ctx.length = range.end - range.start + 1;
      } else {
        ctx.status = 200;
        ctx.length = record.size;
      }
    },
  });

  const remove = defineRoute<{ id: string }>({
    method: 'DELETE',
    path: '/v1/files/{id}',
    operationId: 'deleteFile',
    summary: 'Delete a file; its share of the quota is free at once',
    tag: 'files',
    scope: 'tenant',
    params: uuidParams,
    audit: { action: 'files.delete', entityType: 'file' },
    responses: { 204: { description: 'Deleted.' } },
    async handler(ctx, { params }) {
      const tenantId = tenantOf(ctx);
      await mapped(
        files.remove(tenantId, params.id, (change) =>
          auditedTransaction(ctx, db, 204, change, () => params.id),
        ),
      );
      ctx.status = 204;
    },
  });

  return [list, upload, metadata, url, content, remove] as AnyRoute[];
}

/**
 * Reads a multipart form and hands its first file part to `store`; a second file, or a
 * form without one, is a 400. A form cut off mid-file fails the part's stream, and so the
 * upload.
 */
function fromForm(
  ctx: ApiContext,
  store: (file: Readable, filename: string, mimeType: string) => Promise<FileRecord>,
): Promise<FileRecord> {
  return new Promise<FileRecord>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: ctx.req.headers, limits: { files: 1, fields: 20, fieldSize: 64 * 1024 } });
    } catch {
      reject(problem.badRequest('The multipart form has no boundary.'));
      return;
    }
    let pending: Promise<FileRecord> | undefined;
    let current: Readable | undefined;
    parser.on('file', (_field, file, info) => {
      current = file;
      pending = store(file, info.filename ?? '', info.mimeType);
      pending.catch(() => file.resume());
    });
    parser.on('filesLimit', () => reject(problem.badRequest('Send one file per request.')));
    parser.on('error', (err: Error) => {
      const cut = problem.badRequest(`The multipart form is malformed: ${err.message}.`);
      if (current && !current.destroyed) current.destroy(cut);
      (pending ?? Promise.reject(cut)).then(() => reject(cut), reject);
    });
    parser.on('close', () => {
      if (!pending) reject(problem.badRequest('The multipart form has no file part.'));
      else pending.then(resolve, reject);
    });
    ctx.req.on('aborted', () => current?.destroy(new Error('the request was aborted')));
    ctx.req.pipe(parser);
  });
}

/** One `bytes=a-b`, `a-` or `-n` range; other forms are ignored (the whole file is sent). */
function parseRange(header: string, size: number): ByteRange | undefined {
  if (header === '') return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start > end || start >= size) {
    throw new HttpProblem({
      status: 416,
      title: 'Range Not Satisfiable',
      detail: `The file has ${size} bytes.`,
      headers: { 'content-range': `bytes */${size}` },
    });
  }
  return { start, end };
}
