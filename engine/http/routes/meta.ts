/** Public routes: liveness, readiness, the OpenAPI document and Prometheus metrics. */
import { timingSafeEqual } from 'node:crypto';
import { problem } from '../../problem.ts';
import { notReadyReason } from '../health.ts';
import { METRICS_CONTENT_TYPE, metricsText } from '../metrics.ts';
import { type AnyRoute, defineRoute } from '../route.ts';
import type { RouteDeps } from './deps.ts';

const statusSchema = { type: 'object', required: ['status'], properties: { status: { type: 'string' } } };

export function metaRoutes({ db, config }: RouteDeps, openapi: () => object): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/healthz',
      operationId: 'health',
      summary: 'Liveness: the process is up',
      tag: 'meta',
      scope: 'public',
      responses: { 200: { description: 'Up.', schema: statusSchema } },
      handler(ctx) {
        ctx.body = { status: 'ok' };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/readyz',
      operationId: 'ready',
      summary: 'Readiness: the database answers and its migrations are current',
      tag: 'meta',
      scope: 'public',
      errors: [503],
      responses: { 200: { description: 'Ready.', schema: statusSchema } },
      async handler(ctx) {
        const reason = await notReadyReason(db);
        if (reason) throw problem.unavailable(reason);
        ctx.body = { status: 'ready' };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/openapi.json',
      operationId: 'openapi',
      summary: 'This API as an OpenAPI 3.1 document',
      tag: 'meta',
      scope: 'public',
      responses: { 200: { description: 'The document.', schema: { type: 'object' } } },
      handler(ctx) {
        ctx.body = openapi();
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      description: 'Needs `Authorization: Bearer <ATLAS_METRICS_TOKEN>` when that variable is set.',
      tag: 'meta',
      scope: 'public',
      errors: [401],
      responses: {
        200: {
          description: 'The text exposition format.',
          contentType: 'text/plain',
          schema: { type: 'string' },
        },
      },
      async handler(ctx) {
        if (
          config.metricsToken !== undefined &&
          !sameSecret(bearer(ctx.get('authorization')), config.metricsToken)
        ) {
          throw problem.unauthorized(
            'Metrics need `Authorization: Bearer <ATLAS_METRICS_TOKEN>`.',
            'Bearer realm="metrics"',
          );
        }
        ctx.type = METRICS_CONTENT_TYPE;
        ctx.body = await metricsText();
      },
    }),
  ] as AnyRoute[];
}

function bearer(header: string): string {
  return /^Bearer +(\S+) *$/i.exec(header)?.[1] ?? '';
}

/** Constant time, so the token cannot be guessed byte by byte from response times. */
function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
