// The file download routes: a signed URL that needs no token, and the bytes it serves (with ranges).
import type { Readable } from 'node:stream';
import { recordAudit } from '../../db/audit.ts';
import { contentDisposition } from '../../files/records.ts';
import type { FileService } from '../../files/service.ts';
import type { ByteRange } from '../../files/storage.ts';
import { HttpProblem, problem } from '../../problem.ts';
import { principalOf, tenantOf } from '../context.ts';
import { defineRoute } from '../route.ts';
import { expiringUrlSchema, querySchema, uuidParams } from '../schemas.ts';
import type { RouteDeps } from './deps.ts';
import { mapped, parseTtl, TTL } from './files-common.ts';

export function urlRoute({ db }: RouteDeps, files: FileService) {
  return defineRoute<{ id: string }, { ttl?: string }>({
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
    query: querySchema({ ttl: { type: 'string', pattern: TTL, description: 'How long the URL works.' } }),
    responses: {
      200: {
        description: 'The URL and when it expires.',
        schema: expiringUrlSchema(),
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
}

export function contentRoute({ db }: RouteDeps, files: FileService) {
  return defineRoute<{ id: string }, { expires: string; signature: string }>({
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
