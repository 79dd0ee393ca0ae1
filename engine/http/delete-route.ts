/**
 * The audited DELETE of one tenant entity: 204, or 404 when there was nothing to delete. The
 * deletion and its audit entry commit together; a miss is thrown inside the transaction, so it
 * leaves no "ok" audit row behind.
 */
import type { Knex } from 'knex';
import { problem } from '../problem.ts';
import { tenantOf } from './context.ts';
import { auditedTransaction } from './plugins/audit.ts';
import { defineRoute, type JsonSchema, type RouteSpec } from './route.ts';

export interface DeleteRouteSpec<P> {
  db: Knex;
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  params: JsonSchema;
  audit: { action: string; entityType: string };
  /** The audited entity id. */
  entityId(params: P): string;
  /** Deletes in `trx`; says whether there was anything to delete. */
  remove(tenantId: string, params: P, trx: Knex.Transaction): Promise<boolean>;
  /** The 404's detail. */
  notFound(params: P): string;
}

export function defineDeleteRoute<P>(spec: DeleteRouteSpec<P>): RouteSpec<P> {
  const { db, entityId, remove, notFound, ...doc } = spec;
  return defineRoute<P>({
    ...doc,
    method: 'DELETE',
    scope: 'tenant',
    errors: [404],
    responses: { 204: { description: 'Deleted.' } },
    async handler(ctx, { params }) {
      const tenantId = tenantOf(ctx);
      await auditedTransaction(
        ctx,
        db,
        204,
        async (trx) => {
          if (!(await remove(tenantId, params, trx))) throw problem.notFound(notFound(params));
        },
        () => entityId(params),
      );
      ctx.status = 204;
    },
  });
}
