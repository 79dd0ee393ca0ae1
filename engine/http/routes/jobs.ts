/** Typed jobs: enqueue one (payload checked against its type's schema) and follow it. */
import type { Context } from 'koa';
import { JOB_TYPES } from '../../connector-sdk/index.ts';
import { problem } from '../../problem.ts';
import { principalOf, tenantOf } from '../context.ts';
import { auditedTransaction } from '../plugins/audit.ts';
import { type AnyRoute, defineRoute } from '../route.ts';
import { callRuntime } from '../runtime-errors.ts';
import { jobAccepted, jobSchema, uuidParams } from '../schemas.ts';
import type { RouteDeps } from './deps.ts';

/**
 * Queues a typed job for the request's tenant, audited in the same transaction, and answers
 * 202 with the job and its `Location`.
 */
export async function enqueueAndAnswer(
  ctx: Context,
  { db, runtime }: Pick<RouteDeps, 'db' | 'runtime'>,
  type: string,
  payload: unknown,
): Promise<void> {
  const request = { tenantId: tenantOf(ctx), type, payload, actor: principalOf(ctx).sub };
  const job = await callRuntime(() =>
    auditedTransaction(
      ctx,
      db,
      202,
      (trx) => runtime.enqueueJob(request, trx),
      (j) => j.id,
    ),
  );
  ctx.status = 202;
  ctx.set('location', `/v1/jobs/${job.id}`);
  ctx.body = job;
}

const CONTROL = {
  retry: { summary: 'Retry a job that failed for good, or was cancelled', call: 'retryJob' },
  cancel: { summary: 'Cancel a queued, waiting or running job', call: 'cancelJob' },
} as const;

export function jobRoutes({ db, runtime }: RouteDeps): AnyRoute[] {
  const control = (Object.keys(CONTROL) as Array<keyof typeof CONTROL>).map((action) =>
    defineRoute<{ id: string }>({
      method: 'POST',
      path: `/v1/jobs/{id}/${action}`,
      operationId: `${action}Job`,
      summary: CONTROL[action].summary,
      tag: 'jobs',
      scope: 'tenant',
      params: uuidParams,
      errors: [409],
      audit: { action: `jobs.${action}`, entityType: 'job' },
      responses: { 202: { description: 'Accepted.', schema: jobSchema } },
      async handler(ctx, { params }) {
        const job = await callRuntime(() => runtime[CONTROL[action].call](tenantOf(ctx), params.id));
        ctx.status = 202;
        ctx.set('location', `/v1/jobs/${job.id}`);
        ctx.body = job;
      },
    }),
  );
  return [
    ...control,
    defineRoute<Record<string, string>, Record<string, never>, { type: string; payload: unknown }>({
      method: 'POST',
      path: '/v1/jobs',
      operationId: 'enqueueJob',
      summary: 'Enqueue a job',
      description:
        "The payload is checked against the schema of the connector action serving the job's type.",
      tag: 'jobs',
      scope: 'tenant',
      body: {
        type: 'object',
        required: ['type', 'payload'],
        additionalProperties: false,
        properties: {
          type: { type: 'string', enum: [...JOB_TYPES] },
          payload: { description: 'The job input.' },
        },
      },
      audit: { action: 'jobs.enqueue', entityType: 'job' },
      responses: { 202: jobAccepted },
      async handler(ctx, { body }) {
        await enqueueAndAnswer(ctx, { db, runtime }, body.type, body.payload);
      },
    }),
    defineRoute<{ id: string }>({
      method: 'GET',
      path: '/v1/jobs/{id}',
      operationId: 'getJob',
      summary: 'Get a job: status, attempts, last error, result',
      tag: 'jobs',
      scope: 'tenant',
      params: uuidParams,
      responses: { 200: { description: 'The job.', schema: jobSchema } },
      async handler(ctx, { params }) {
        const job = await callRuntime(() => runtime.getJob(tenantOf(ctx), params.id));
        if (!job) throw problem.notFound(`There is no job ${params.id}.`);
        ctx.body = job;
      },
    }),
  ] as AnyRoute[];
}
