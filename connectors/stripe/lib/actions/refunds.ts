import { createOptions } from '../../client.ts';
import { metadata, stripeAction } from '../define.ts';

interface RefundCreateInput {
  payment_intent?: string;
  charge?: string;
  amount?: number;
  reason?: 'duplicate' | 'fraudulent' | 'requested_by_customer';
  metadata?: Record<string, string>;
}

export const refundsCreate = stripeAction<RefundCreateInput>({
  id: 'refunds.create',
  description: 'Refund a payment, fully or partly (idempotent per step: a retried step never refunds twice).',
  object: 'refund',
  input: {
    type: 'object',
    additionalProperties: false,
    oneOf: [{ required: ['payment_intent'] }, { required: ['charge'] }],
    properties: {
      payment_intent: { type: 'string', pattern: '^pi_', description: 'The PaymentIntent to refund.' },
      charge: { type: 'string', pattern: '^(ch|py)_', description: 'The charge to refund.' },
      amount: {
        type: 'integer',
        minimum: 1,
        description: 'Partial amount in cents; the whole payment when absent.',
      },
      reason: { enum: ['duplicate', 'fraudulent', 'requested_by_customer'], description: 'Why.' },
      metadata,
    },
  },
  call: (stripe, input, ctx) => stripe.refunds.create(input, createOptions(ctx)),
});
