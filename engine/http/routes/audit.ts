/** `GET /v1/audit`: the tenant's audit trail, newest first. */
import { type AuditFilter, listAudit } from '../../db/audit.ts';
import { verifyAudit } from '../../db/audit-chain.ts';
import { withTenant } from '../../db/rls.ts';
import { decodeCursor, encodeCursor } from '../../json/cursor.ts';
import { tenantOf } from '../context.ts';
import { type AnyRoute, defineRoute, type JsonSchema } from '../route.ts';
import { objectOf, type PageQuery, pageOf, pageQuery } from '../schemas.ts';
import { queryDate } from '../time.ts';
import type { RouteDeps } from './deps.ts';

const text = (maxLength: number): JsonSchema => ({ type: 'string', minLength: 1, maxLength });
const nullable = (schema: JsonSchema): JsonSchema => ({ ...schema, type: [schema.type, 'null'] });

const auditEntrySchema = objectOf(['id', 'at', 'actor', 'action', 'entityType', 'result', 'seq', 'hash'], {
  id: { type: 'integer' },
  tenantId: nullable({ type: 'string' }),
  at: { type: 'string', format: 'date-time' },
  actor: { type: 'string' },
  action: { type: 'string' },
  entityType: { type: 'string' },
  entityId: nullable({ type: 'string' }),
  requestId: nullable({ type: 'string' }),
  status: nullable({ type: 'integer' }),
  result: { type: 'string', enum: ['ok', 'error'] },
  summary: { description: 'The redacted input.' },
  connector: nullable({ type: 'string' }),
  method: nullable({ type: 'string' }),
  host: nullable({ type: 'string' }),
  path: nullable({ type: 'string' }),
  durationMs: nullable({ type: 'integer' }),
  seq: { type: 'integer', description: "The entry's place in the tenant's hash chain." },
  hash: { type: 'string', description: 'SHA-256 of the entry and the one before it (hex).' },
  erasedAt: nullable({ type: 'string', format: 'date-time' }),
});

interface AuditQuery extends PageQuery {
  action?: string;
  entityType?: string;
  entityId?: string;
  actor?: string;
  since?: string;
  until?: string;
}

interface VerifyQuery {
  anchorSeq?: number;
  anchorHash?: string;
}

const verifySchema = objectOf(['tenantId', 'ok', 'rows', 'erased', 'head'], {
  tenantId: { type: 'string' },
  ok: { type: 'boolean' },
  rows: { type: 'integer', description: 'Rows verified (before the problem, if any).' },
  erased: { type: 'integer', description: 'Rows whose payload was erased for retention.' },
  head: {
    type: ['object', 'null'],
    description: 'The last seq and hash: keep them outside Atlas as an anchor.',
    required: ['seq', 'hash'],
    properties: { seq: { type: 'integer' }, hash: { type: 'string' } },
  },
  problem: {
    type: 'object',
    required: ['kind', 'seq', 'id', 'message'],
    properties: {
      kind: { type: 'string', enum: ['edited', 'deleted', 'inserted', 'reordered', 'rewritten'] },
      seq: { type: 'integer' },
      id: { type: ['integer', 'null'] },
      message: { type: 'string' },
    },
  },
});

export function auditRoutes({ db }: RouteDeps): AnyRoute[] {
  const list = defineRoute<Record<string, string>, AuditQuery>({
    method: 'GET',
    path: '/v1/audit',
    operationId: 'listAudit',
    summary: "List the tenant's audit entries, newest first",
    tag: 'audit',
    scope: 'tenant',
    query: pageQuery({
      action: text(100),
      entityType: text(100),
      entityId: text(200),
      actor: text(200),
      since: { type: 'string', format: 'date-time' },
      until: { type: 'string', format: 'date-time' },
    }),
    responses: { 200: { description: 'A page of entries.', schema: pageOf(auditEntrySchema) } },
    async handler(ctx, { query }) {
      const tenantId = tenantOf(ctx);
      const filter: AuditFilter = { limit: query.limit };
      if (query.action !== undefined) filter.action = query.action;
      if (query.entityType !== undefined) filter.entityType = query.entityType;
      if (query.entityId !== undefined) filter.entityId = query.entityId;
      if (query.actor !== undefined) filter.actor = query.actor;
      const since = queryDate(query.since, 'since');
      if (since) filter.since = since;
      const until = queryDate(query.until, 'until');
      if (until) filter.until = until;
      const beforeId = decodeCursor(query.cursor, 'number');
      if (beforeId !== undefined) filter.beforeId = beforeId;
      const items = await withTenant(db, tenantId, (trx) => listAudit(trx, tenantId, filter));
      const last = items.at(-1);
      ctx.body = {
        items,
        ...(last && items.length === query.limit ? { nextCursor: encodeCursor(last.id) } : {}),
      };
    },
  });
  const verify = defineRoute<Record<string, string>, VerifyQuery>({
    method: 'GET',
    path: '/v1/audit/verify',
    operationId: 'verifyAudit',
    summary: "Verify the tenant's audit hash chain",
    description:
      'Recomputes every hash of the chain and names the first row that was edited, deleted, inserted or reordered. ' +
      'With `anchorSeq` and `anchorHash` (a head this endpoint or `atlas audit anchor` gave earlier, kept outside ' +
      'Atlas), also checks that the row at that seq still has that hash, which catches a rewrite that re-chained ' +
      'every row after it.',
    tag: 'audit',
    scope: 'tenant',
    query: {
      type: 'object',
      additionalProperties: false,
      dependentRequired: { anchorSeq: ['anchorHash'], anchorHash: ['anchorSeq'] },
      properties: {
        anchorSeq: { type: 'integer', minimum: 1 },
        anchorHash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
      },
    },
    responses: { 200: { description: 'The chain, intact or not.', schema: verifySchema } },
    async handler(ctx, { query }) {
      const tenantId = tenantOf(ctx);
      const anchors =
        query.anchorSeq === undefined || query.anchorHash === undefined
          ? []
          : [{ tenantId, seq: query.anchorSeq, hash: query.anchorHash }];
      const [report] = await withTenant(db, tenantId, (trx) => verifyAudit(trx, { tenantId, anchors }));
      ctx.body = report;
    },
  });
  return [list, verify] as AnyRoute[];
}
