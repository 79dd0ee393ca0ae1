import { createOptions } from '../../client.ts';
import { amount, currency, metadata, stripeAction } from '../define.ts';

interface PaymentIntentCreateInput {
  amount: number;
  currency: string;
  customer?: string;
  description?: string;
  receipt_email?: string;
  payment_method_types?: string[];
  metadata?: Record<string, string>;
}

export const paymentIntentsCreate = stripeAction<PaymentIntentCreateInput>({
  id: 'paymentIntents.create',
  description: 'Create a PaymentIntent (idempotent per step).',
  object: 'payment_intent',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['amount', 'currency'],
    properties: {
      amount,
      currency,
      customer: { type: 'string', pattern: '^cus_', description: 'Customer id.' },
      description: { type: 'string', description: 'Shown in the Dashboard.' },
      receipt_email: { type: 'string', format: 'email', description: 'Where Stripe sends the receipt.' },
      payment_method_types: { type: 'array', items: { type: 'string' }, description: 'e.g. `["card"]`.' },
      metadata,
    },
  },
  call: (stripe, input, ctx) => stripe.paymentIntents.create(input, createOptions(ctx)),
});

export const paymentIntentsRetrieve = stripeAction<{ id: string }>({
  id: 'paymentIntents.retrieve',
  description: 'Retrieve a PaymentIntent by id.',
  object: 'payment_intent',
  readOnly: true,
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['id'],
    properties: { id: { type: 'string', pattern: '^pi_', description: 'PaymentIntent id (`pi_...`).' } },
  },
  call: (stripe, input) => stripe.paymentIntents.retrieve(input.id),
});
