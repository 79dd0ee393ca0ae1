// The file upload route: a multipart form or a raw body, streamed to storage within the limits.
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { FileTooLargeError } from '../../files/errors.ts';
import type { FileRecord } from '../../files/records.ts';
import type { FileService } from '../../files/service.ts';
import { problem } from '../../problem.ts';
import type { ApiContext } from '../context.ts';
import { principalOf, tenantOf } from '../context.ts';
import { auditedTransaction } from '../plugins/audit.ts';
import { defineRoute } from '../route.ts';
import { querySchema } from '../schemas.ts';
import type { RouteDeps } from './deps.ts';
import { fileProblem, fileSchema, mapped } from './files-common.ts';

/** Largest multipart overhead (boundaries, part headers) accepted beyond the file limit. */
const FORM_OVERHEAD = 64 * 1024;

export function uploadRoute({ db }: RouteDeps, files: FileService) {
  return defineRoute<Record<string, string>, { name?: string }>({
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
    query: querySchema({
      name: { type: 'string', minLength: 1, maxLength: 1024, description: 'The file name.' },
    }),
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
