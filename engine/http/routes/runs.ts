/** Runs: list with filters, detail with every step attempt, and recovery (retry, restart, cancel). */

import { problem } from '../../problem.ts';
import { type ApiContext, tenantOf } from '../context.ts';
import { type AnyRoute, defineRoute, type RouteSpec } from '../route.ts';
import { callRuntime } from '../runtime-errors.ts';
import {
  type PageQuery,
  pageOf,
  pageQuery,
  RUN_STATUSES,
  runDetailSchema,
  runSummarySchema,
  uuidParams,
} from '../schemas.ts';
import { queryDate } from '../time.ts';
import type { RouteDeps } from './deps.ts';
import { MANIFEST_ID_PATTERN } from './workflows.ts';

interface RunQuery extends PageQuery {
  workflowId?: string;
  status?: string;
  since?: string;
  until?: string;
}

const ACTIONS = {
  retry: 'Retry a failed run from its failed step (earlier outputs kept)',
  restart: 'Restart a finished run from the beginning, as a new attempt',
  cancel: 'Cancel a queued or running run',
} as const;

export function runRoutes({ runtime }: RouteDeps): AnyRoute[] {
  const list = defineRoute<Record<string, string>, RunQuery>({
    method: 'GET',
    path: '/v1/runs',
    operationId: 'listRuns',
    summary: 'List runs, newest first',
    tag: 'runs',
    scope: 'tenant',
    query: pageQuery({
      workflowId: { type: 'string', pattern: MANIFEST_ID_PATTERN },
      status: { type: 'string', enum: [...RUN_STATUSES] },
      since: { type: 'string', format: 'date-time', description: 'Runs created at or after.' },
      until: { type: 'string', format: 'date-time', description: 'Runs created before.' },
    }),
    responses: { 200: { description: 'A page of runs.', schema: pageOf(runSummarySchema) } },
    async handler(ctx, { query }) {
      const since = queryDate(query.since, 'since');
      const until = queryDate(query.until, 'until');
      ctx.body = await callRuntime(
        () =>
          runtime.listRuns(tenantOf(ctx), {
            limit: query.limit,
            ...(query.workflowId === undefined ? {} : { workflowId: query.workflowId }),
            ...(query.status === undefined ? {} : { status: query.status }),
            ...(since ? { since } : {}),
            ...(until ? { until } : {}),
            ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
          }),
        'query',
      );
    },
  });

  const get = defineRoute<{ id: string }>({
    method: 'GET',
    path: '/v1/runs/{id}',
    operationId: 'getRun',
    summary: 'Get a run: steps, attempts, rendered inputs, outputs, errors',
    tag: 'runs',
    scope: 'tenant',
    params: uuidParams,
    responses: { 200: { description: 'The run.', schema: runDetailSchema } },
    async handler(ctx, { params }) {
      const run = await callRuntime(() => runtime.getRun(tenantOf(ctx), params.id));
      if (!run) throw problem.notFound(`There is no run ${params.id}.`);
      ctx.body = run;
    },
  });

  const recovery = (Object.keys(ACTIONS) as Array<keyof typeof ACTIONS>).map((action) =>
    defineRoute<{ id: string }>({
      method: 'POST',
      path: `/v1/runs/{id}/${action}`,
      operationId: `${action}Run`,
      summary: ACTIONS[action],
      tag: 'runs',
      scope: 'tenant',
      params: uuidParams,
      errors: [409],
      audit: { action: `runs.${action}`, entityType: 'run' },
      responses: { 202: { description: 'Accepted.', schema: runSummarySchema } },
      async handler(ctx: ApiContext, { params }) {
        const run = await callRuntime(() => runtime[action](tenantOf(ctx), params.id));
        ctx.status = 202;
        ctx.set('location', `/v1/runs/${run.id}`);
        ctx.body = run;
      },
    } satisfies RouteSpec<{ id: string }>),
  );

  return [list, get, ...recovery] as AnyRoute[];
}
