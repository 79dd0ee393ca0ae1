import type Stripe from 'stripe';
import { createOptions } from '../../client.ts';
import { amount, currency, metadata, stripeAction } from '../define.ts';

interface LineItem {
  price?: string;
  quantity: number;
  name?: string;
  amount?: number;
  currency?: string;
}

interface CheckoutSessionCreateInput {
  mode: 'payment' | 'subscription' | 'setup';
  success_url: string;
  cancel_url?: string;
  customer?: string;
  customer_email?: string;
  line_items?: LineItem[];
  metadata?: Record<string, string>;
}

/** A line item by Price id, or an ad-hoc one (`price_data`) from name + amount + currency. */
function toLineItem(item: LineItem): Stripe.Checkout.SessionCreateParams.LineItem {
  if (item.price) return { price: item.price, quantity: item.quantity };
  return {
    quantity: item.quantity,
    price_data: {
      currency: item.currency ?? 'usd',
      unit_amount: item.amount ?? 0,
      product_data: { name: item.name ?? 'Item' },
    },
  };
}

export const checkoutSessionsCreate = stripeAction<CheckoutSessionCreateInput>({
  id: 'checkout.sessions.create',
  description: 'Create a Checkout Session; its `url` is the hosted payment page.',
  object: 'checkout.session',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['mode', 'success_url'],
    properties: {
      mode: { enum: ['payment', 'subscription', 'setup'], description: 'What the session collects.' },
      success_url: {
        type: 'string',
        format: 'uri',
        description: 'Where Stripe sends the customer after paying.',
      },
      cancel_url: { type: 'string', format: 'uri', description: 'Where the back link goes.' },
      customer: { type: 'string', pattern: '^cus_', description: 'An existing customer.' },
      customer_email: { type: 'string', format: 'email', description: 'Prefills the email.' },
      line_items: {
        type: 'array',
        minItems: 1,
        description: 'By `price` id, or ad hoc with `name`, `amount` and `currency`.',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['quantity'],
          properties: {
            price: { type: 'string' },
            quantity: { type: 'integer', minimum: 1 },
            name: { type: 'string' },
            amount,
            currency,
          },
        },
      },
      metadata,
    },
  },
  call: (stripe, input, ctx) =>
    stripe.checkout.sessions.create(
      { ...input, ...(input.line_items ? { line_items: input.line_items.map(toLineItem) } : {}) },
      createOptions(ctx),
    ),
});
