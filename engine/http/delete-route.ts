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

export interface DeleteRouteSpec {
  db: Knex;
  /** The path, whose one parameter names the entity (and is the audited entity id). */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  params: JsonSchema;
  audit: { action: string; entityType: string };
  /** Deletes the entity in `trx`; says whether there was anything to delete. */
  remove(tenantId: string, key: string, trx: Knex.Transaction): Promise<boolean>;
  /** The 404's detail. */
  notFound(key: string): string;
}

export function defineDeleteRoute(spec: DeleteRouteSpec): RouteSpec<Record<string, string>> {
  const { db, remove, notFound, ...doc } = spec;
  const names = [...spec.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  if (names.length !== 1)
    throw new Error(`${spec.path}: an audited DELETE names its entity by exactly one path parameter`);
  const [name] = names as [string];
  return defineRoute<Record<string, string>>({
    ...doc,
    method: 'DELETE',
    scope: 'tenant',
    errors: [404],
    responses: { 204: { description: 'Deleted.' } },
    async handler(ctx, { params }) {
      const tenantId = tenantOf(ctx);
      const key = params[name]!;
      await auditedTransaction(
        ctx,
        db,
        204,
        async (trx) => {
          if (!(await remove(tenantId, key, trx))) throw problem.notFound(notFound(key));
        },
        () => key,
      );
      ctx.status = 204;
    },
  });
}
