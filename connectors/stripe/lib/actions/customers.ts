import { createOptions } from '../../client.ts';
import { metadata, stripeAction } from '../define.ts';

interface CustomerCreateInput {
  email?: string;
  name?: string;
  phone?: string;
  description?: string;
  metadata?: Record<string, string>;
}

export const customersCreate = stripeAction<CustomerCreateInput>({
  id: 'customers.create',
  description: 'Create a Stripe customer (idempotent per step).',
  object: 'customer',
  input: {
    type: 'object',
    additionalProperties: false,
    properties: {
      email: { type: 'string', format: 'email', description: 'Customer email.' },
      name: { type: 'string', description: 'Full name or business name.' },
      phone: { type: 'string', description: 'Phone number.' },
      description: { type: 'string', description: 'Internal note.' },
      metadata,
    },
  },
  call: (stripe, input, ctx) => stripe.customers.create(input, createOptions(ctx)),
});

export const customersRetrieve = stripeAction<{ id: string }>({
  id: 'customers.retrieve',
  description: 'Retrieve a Stripe customer by id.',
  object: 'customer',
  readOnly: true,
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['id'],
    properties: { id: { type: 'string', pattern: '^cus_', description: 'Customer id (`cus_...`).' } },
  },
  call: (stripe, input) => stripe.customers.retrieve(input.id),
});
