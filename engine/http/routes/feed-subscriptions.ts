/**
 * Subscriptions to the change feed: `POST`, `GET` and `DELETE /v1/subscriptions`. Each matching
 * event is delivered as a Standard Webhooks `WEBHOOK_SEND` job (engine/feed/record.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  deleteSubscription,
  insertSubscription,
  listSubscriptions,
  type SubscriptionRow,
} from '../../db/feed.ts';
import { withTenant } from '../../db/rls.ts';
import { EVENT_TYPES } from '../../feed/events.ts';
import { problem } from '../../problem.ts';
import { keyProblem } from '../../webhooks/keys.ts';
import { principalOf, tenantOf } from '../context.ts';
import { defineDeleteRoute } from '../delete-route.ts';
import { auditedTransaction } from '../plugins/audit.ts';
import { type AnyRoute, defineRoute, type JsonSchema } from '../route.ts';
import type { RouteDeps } from './deps.ts';
import { TYPE_PATTERN } from './feed-stream.ts';

const subscriptionSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'url', 'types', 'status', 'createdAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    url: { type: 'string' },
    types: { type: 'array', items: { type: 'string' } },
    status: { type: 'string', enum: ['active', 'disabled'] },
    statusReason: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    secret: { type: 'string', description: 'The whsec_ signing secret, in the creation answer only.' },
  },
};

interface SubscriptionBody {
  url: string;
  types: string[];
  secret?: string;
}

function subscriptionView(row: SubscriptionRow) {
  return {
    id: row.id,
    url: row.url,
    types: row.types,
    status: row.status,
    statusReason: row.status_reason,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export function subscriptionRoutes(deps: RouteDeps, requireFeed: () => void): AnyRoute[] {
  const { db } = deps;
  const create = defineRoute<Record<string, string>, Record<string, never>, SubscriptionBody>({
    method: 'POST',
    path: '/v1/subscriptions',
    operationId: 'createSubscription',
    summary: 'Subscribe a URL to event types (Standard Webhooks deliveries)',
    description:
      'Each matching event is delivered as a `WEBHOOK_SEND` job: a POST signed with the subscription secret ' +
      '(Standard Webhooks; `webhook-id` is the event id), retried on the webhook schedule, through the SSRF ' +
      'guard. A receiver answering 410 Gone disables the subscription. Without `secret`, one is made and ' +
      'returned once.',
    tag: 'events',
    scope: 'tenant',
    body: {
      type: 'object',
      required: ['url', 'types'],
      additionalProperties: false,
      properties: {
        url: { type: 'string', format: 'uri', maxLength: 2000, pattern: '^https?://' },
        types: {
          type: 'array',
          minItems: 1,
          maxItems: 50,
          uniqueItems: true,
          items: { type: 'string', pattern: TYPE_PATTERN },
        },
        secret: { type: 'string', pattern: '^whsec_', maxLength: 200 },
      },
    },
    audit: { action: 'subscriptions.create', entityType: 'subscription', redactBody: ['secret'] },
    responses: { 201: { description: 'Subscribed.', schema: subscriptionSchema } },
    errors: [422, 503],
    async handler(ctx, { body }) {
      requireFeed();
      const secrets = deps.secrets;
      if (!secrets) throw problem.unavailable('Subscriptions need the secrets store.');
      for (const type of body.types) {
        if (type.endsWith('.*') || type === '*') continue;
        if (!(EVENT_TYPES as readonly string[]).includes(type)) {
          throw problem.unprocessable(
            `"${type}" is not an event type; expected one of ${EVENT_TYPES.join(', ')}.`,
          );
        }
      }
      const invalid = body.secret === undefined ? undefined : keyProblem('standard-webhooks', body.secret);
      if (invalid) throw problem.unprocessable(`secret: ${invalid}`);
      const secret = body.secret ?? `whsec_${randomBytes(24).toString('base64')}`;
      const tenantId = tenantOf(ctx);
      const id = randomUUID();
      const secretName = `FEED_SUBSCRIPTION_${id.replace(/-/g, '').toUpperCase()}`;
      const row = await auditedTransaction(
        ctx,
        db,
        201,
        async (trx) => {
          await secrets.put(tenantId, secretName, secret, trx);
          return insertSubscription(trx, {
            id,
            tenantId,
            url: body.url,
            types: body.types,
            secretName,
            createdBy: principalOf(ctx).sub,
          });
        },
        (r) => r.id,
      );
      ctx.status = 201;
      ctx.set('location', `/v1/subscriptions/${row.id}`);
      ctx.body = { ...subscriptionView(row), ...(body.secret === undefined ? { secret } : {}) };
    },
  });

  const list = defineRoute({
    method: 'GET',
    path: '/v1/subscriptions',
    operationId: 'listSubscriptions',
    summary: "The tenant's subscriptions (never their secrets)",
    tag: 'events',
    scope: 'tenant',
    responses: {
      200: {
        description: 'Every subscription.',
        schema: {
          type: 'object',
          required: ['items'],
          properties: { items: { type: 'array', items: subscriptionSchema } },
        },
      },
    },
    async handler(ctx) {
      const tenantId = tenantOf(ctx);
      const rows = await withTenant(db, tenantId, (trx) => listSubscriptions(trx, tenantId));
      ctx.body = { items: rows.map(subscriptionView) };
    },
  });

  const remove = defineDeleteRoute({
    db,
    path: '/v1/subscriptions/{id}',
    operationId: 'deleteSubscription',
    summary: 'Delete a subscription and its secret',
    tag: 'events',
    params: {
      type: 'object',
      required: ['id'],
      additionalProperties: false,
      properties: { id: { type: 'string', format: 'uuid' } },
    },
    audit: { action: 'subscriptions.delete', entityType: 'subscription' },
    async remove(tenantId, id, trx) {
      const row = await deleteSubscription(trx, tenantId, id);
      if (!row) return false;
      await deps.secrets?.remove(tenantId, row.secret_name, trx);
      return true;
    },
    notFound: () => 'The resource does not exist.',
  });

  return [create, list, remove] as AnyRoute[];
}
