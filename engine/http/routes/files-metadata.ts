// The file metadata routes: the list with usage and limits, one file's metadata, and delete.
import type { FileService } from '../../files/service.ts';
import { decodeCursor, encodeCursor } from '../../json/cursor.ts';
import { tenantOf } from '../context.ts';
import { auditedTransaction } from '../plugins/audit.ts';
import { defineRoute } from '../route.ts';
import { type PageQuery, pageOf, pageQuery, uuidParams } from '../schemas.ts';
import type { RouteDeps } from './deps.ts';
import { fileSchema, limitsSchema, mapped, usageSchema } from './files-common.ts';

interface ListQuery extends PageQuery {
  prefix?: string;
}

export function listRoute(files: FileService) {
  return defineRoute<Record<string, string>, ListQuery>({
    method: 'GET',
    path: '/v1/files',
    operationId: 'listFiles',
    summary: "List the tenant's files, newest first, with its usage and limits",
    tag: 'files',
    scope: 'tenant',
    query: pageQuery({
      prefix: { type: 'string', minLength: 1, maxLength: 255, description: 'Only names starting with it.' },
    }),
    responses: {
      200: {
        description: 'A page of files, the usage and the limits.',
        schema: pageOf(fileSchema, { usage: usageSchema, limits: limitsSchema }),
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
}

export function metadataRoute(files: FileService) {
  return defineRoute<{ id: string }>({
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
}

export function removeRoute({ db }: RouteDeps, files: FileService) {
  return defineRoute<{ id: string }>({
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
}
