/**
 * One shape for every Stripe action: build the client, call the SDK, map its errors, and
 * check the answer is the Stripe object we asked for (its `object` field).
 */

import type { ActionContext, ActionDefinition, JsonSchema } from 'atlas-engine/sdk';
import { ConnectorError, defineAction, expectRecord, isRecord } from 'atlas-engine/sdk';
import type Stripe from 'stripe';
import { mapStripeError, stripeClient } from '../client.ts';

export interface StripeActionSpec<I> {
  id: string;
  description: string;
  input: JsonSchema;
  /** The Stripe `object` value of the answer (`customer`, `list`, ...). */
  object: string;
  readOnly?: boolean;
  call(stripe: Stripe, input: I, ctx: ActionContext): Promise<unknown>;
}

export function stripeAction<I>(spec: StripeActionSpec<I>): ActionDefinition<I, Record<string, unknown>> {
  return defineAction<I, Record<string, unknown>>({
    id: spec.id,
    description: spec.description,
    input: spec.input,
    output: objectSchema(spec.object),
    ...(spec.readOnly ? { readOnly: true } : {}),
    async run(ctx, input) {
      const { stripe, lastStatus } = await stripeClient(ctx);
      let result: unknown;
      try {
        result = await spec.call(stripe, input, ctx);
      } catch (err) {
        throw mapStripeError(err, lastStatus());
      }
      return checkObject(result, spec.object);
    },
  });
}

function checkObject(value: unknown, object: string): Record<string, unknown> {
  const record = expectRecord(value, `stripe ${object}`);
  if (record['object'] !== object) {
    throw ConnectorError.invalidResponse(
      `stripe: expected a ${object}, got ${String(record['object']).slice(0, 40)}`,
    );
  }
  if (object === 'list' && !Array.isArray(record['data']))
    throw ConnectorError.invalidResponse('stripe: list has no data');
  if (object !== 'list' && typeof record['id'] !== 'string')
    throw ConnectorError.invalidResponse(`stripe: ${object} has no id`);
  // JSON round trip: drops the SDK's non-enumerable `lastResponse` and any class instances.
  const plain: unknown = JSON.parse(JSON.stringify(record));
  return isRecord(plain) ? plain : {};
}

function objectSchema(object: string): JsonSchema {
  if (object === 'list') {
    return {
      type: 'object',
      required: ['object', 'data', 'has_more'],
      properties: {
        object: { const: 'list' },
        data: { type: 'array', items: { type: 'object' }, description: 'The page of objects.' },
        has_more: { type: 'boolean', description: 'More pages exist (use `starting_after`).' },
      },
    };
  }
  return {
    type: 'object',
    required: ['id', 'object'],
    description: `A Stripe ${object} object, as the API returns it.`,
    properties: {
      id: { type: 'string', description: `The ${object} id.` },
      object: { const: object },
      ...(object === 'customer'
        ? {
            email: { type: ['string', 'null'], description: "The customer's email address." },
            name: { type: ['string', 'null'], description: "The customer's full name or business name." },
          }
        : {}),
      ...(object === 'checkout.session'
        ? {
            url: {
              type: ['string', 'null'],
              description: 'The hosted payment page to send the customer to.',
            },
          }
        : {}),
    },
  };
}

export const metadata = {
  type: 'object',
  additionalProperties: { type: 'string' },
  description: 'Key-value pairs stored on the Stripe object.',
};

export const currency = {
  type: 'string',
  pattern: '^[a-z]{3}$',
  description: 'ISO currency code, lower case.',
};

export const amount = {
  type: 'integer',
  minimum: 1,
  description: 'Amount in the smallest currency unit (cents).',
};
