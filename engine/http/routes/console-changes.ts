import type { Knex } from 'knex';
import { withTenant } from '../../db/rls.ts';
import { dbNowMicros, type RunRow, runChangesSince } from '../../db/runs.ts';
import { decodeCursor, encodeCursor } from '../../json/cursor.ts';
import { problem } from '../../problem.ts';
import { runSummary } from '../../runtime/views.ts';
import { tenantOf } from '../context.ts';
import { defineRoute } from '../route.ts';
import { cursorSchema, objectOf, querySchema, runSummarySchema } from '../schemas.ts';
import type { RouteDeps } from './deps.ts';

/** The change feed re-sends what changed in this last stretch: a transaction may commit late. */
export const CHANGES_OVERLAP_MS = 5000;

const changesSchema = objectOf(['items', 'cursor'], {
  items: { type: 'array', items: runSummarySchema },
  cursor: { type: 'string', description: 'Pass it back as `cursor` to get what changed since.' },
  more: { type: 'boolean', description: 'More changes wait: call again at once.' },
});

interface ChangesQuery {
  cursor?: string;
  limit: number;
}

export function changesRoute({ db }: RouteDeps) {
  return defineRoute<Record<string, string>, ChangesQuery>({
    method: 'GET',
    path: '/v1/runs/changes',
    operationId: 'listRunChanges',
    summary: 'Runs created or changed since a cursor, oldest change first',
    description:
      'Without a cursor: the changes of the last few seconds. A run may come again (the latest state wins: replace it by id); a change is never skipped unless its transaction took longer than 5 s to commit.',
    tag: 'runs',
    scope: 'tenant',
    query: querySchema({
      cursor: cursorSchema,
      limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
    }),
    responses: { 200: { description: 'What changed.', schema: changesSchema } },
    async handler(ctx, { query }) {
      const tenantId = tenantOf(ctx);
      const position = decodeCursor(query.cursor, 'string');
      const after = position === undefined ? undefined : parseChangePosition(position);
      const { rows, nowUs } = await withTenant(db, tenantId, (trx) =>
        runChanges(trx, tenantId, after, query.limit),
      );
      const more = rows.length > query.limit;
      const page = rows.slice(0, query.limit);
      // While more changes wait, the cursor moves to the last one sent (keyset paging).
      // Once caught up it steps back to "now minus the overlap": the next poll sees again
      // what changed in that stretch, including a transaction that committed after this
      // read. Positions are microseconds, PostgreSQL's own precision.
      const last = page.at(-1);
      const next: ChangePosition =
        more && last
          ? { us: BigInt(last.updated_us), id: last.id }
          : { us: nowUs - BigInt(CHANGES_OVERLAP_MS) * 1000n, id: '' };
      ctx.set('cache-control', 'no-store');
      ctx.body = {
        items: page.map((r) => ({ ...runSummary(r), updatedAt: r.updated_at.toISOString() })),
        cursor: encodeCursor(`${next.us}|${next.id}`),
        ...(more ? { more: true } : {}),
      };
    },
  });
}

interface ChangePosition {
  /** Microseconds since the epoch. */
  us: bigint;
  id: string;
}

async function runChanges(
  trx: Knex.Transaction,
  tenantId: string,
  after: ChangePosition | undefined,
  limit: number,
): Promise<{ rows: Array<RunRow & { updated_us: string }>; nowUs: bigint; from: ChangePosition }> {
  const nowUs = await dbNowMicros(trx);
  const from = after ?? { us: nowUs - BigInt(CHANGES_OVERLAP_MS) * 1000n, id: '' };
  const rows = await runChangesSince(trx, tenantId, from, limit);
  return { rows, nowUs, from };
}

function parseChangePosition(position: string): ChangePosition {
  const match = /^(\d{1,20})\|([0-9a-f-]{0,36})$/.exec(position);
  if (!match) throw problem.badRequest('The cursor is not one this API issued.');
  return { us: BigInt(match[1]!), id: match[2]! };
}
