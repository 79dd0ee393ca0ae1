/** Signals: a JSON payload delivered to a run waiting in a `core.waitForSignal` step. */

import { problem } from '../../problem.ts';
import { principalOf, tenantOf } from '../context.ts';
import { auditedTransaction } from '../plugins/audit.ts';
import { type AnyRoute, defineRoute } from '../route.ts';
import { callRuntime } from '../runtime-errors.ts';
import type { RouteDeps } from './deps.ts';

/** An Idempotency-Key is an opaque client token; printable ASCII keeps it loggable. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

const signalSchema = {
  type: 'object',
  required: ['runId', 'name', 'sender', 'receivedAt', 'replayed'],
  properties: {
    runId: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    sender: { type: 'string', description: 'Who sent it: the API caller, or the approver a webhook named.' },
    receivedAt: { type: 'string', format: 'date-time' },
    replayed: {
      type: 'boolean',
      description: 'An earlier request with the same Idempotency-Key delivered it.',
    },
  },
};

export function signalRoutes({ runtime, db }: RouteDeps): AnyRoute[] {
  const send = defineRoute<{ id: string; name: string }>({
    method: 'POST',
    path: '/v1/runs/{id}/signals/{name}',
    operationId: 'signalRun',
    summary: 'Deliver a signal to a waiting run',
    description:
      'The JSON body becomes the output of the `core.waitForSignal` step waiting for this name, and the run goes on. ' +
      'A run that waits for no such signal answers 409. With an `Idempotency-Key` header, a repeated request ' +
      'answers the first delivery again (`Idempotent-Replayed: true`).',
    tag: 'runs',
    scope: 'tenant',
    params: {
      type: 'object',
      required: ['id', 'name'],
      additionalProperties: false,
      properties: {
        id: { type: 'string', format: 'uuid' },
        name: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$' },
      },
    },
    body: { description: 'The signal payload: any JSON value.' },
    bodyRequired: false,
    errors: [404, 409, 413],
    audit: { action: 'runs.signal', entityType: 'run' },
    responses: { 202: { description: 'Delivered: the run goes on.', schema: signalSchema } },
    async handler(ctx, { params, body }) {
      const key = ctx.get('idempotency-key');
      if (key !== '' && !IDEMPOTENCY_KEY.test(key)) {
        throw problem.badRequest('The Idempotency-Key header must be 1 to 200 printable ASCII characters.');
      }
      const request = {
        tenantId: tenantOf(ctx),
        runId: params.id,
        name: params.name,
        payload: body ?? null,
        sender: principalOf(ctx).sub,
        ...(key === '' ? {} : { idempotencyKey: key }),
      };
      if (ctx.state.audit) ctx.state.audit.summary = { signal: params.name };
      const signal = await callRuntime(() =>
        auditedTransaction(
          ctx,
          db,
          202,
          (trx) => runtime.signal(request, trx),
          (s) => s.runId,
        ),
      );
      ctx.status = 202;
      if (signal.replayed) ctx.set('idempotent-replayed', 'true');
      ctx.body = signal;
    },
  });
  return [send] as AnyRoute[];
}
