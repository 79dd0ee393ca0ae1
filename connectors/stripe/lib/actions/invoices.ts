import { createOptions } from '../../client.ts';
import { metadata, stripeAction } from '../define.ts';

interface InvoiceListInput {
  customer?: string;
  status?: 'draft' | 'open' | 'paid' | 'uncollectible' | 'void';
  limit?: number;
  starting_after?: string;
}

export const invoicesList = stripeAction<InvoiceListInput>({
  id: 'invoices.list',
  description: 'List invoices, newest first, optionally for one customer or status.',
  object: 'list',
  readOnly: true,
  input: {
    type: 'object',
    additionalProperties: false,
    properties: {
      customer: { type: 'string', pattern: '^cus_', description: 'Only this customer’s invoices.' },
      status: { enum: ['draft', 'open', 'paid', 'uncollectible', 'void'], description: 'Only this status.' },
      limit: { type: 'integer', minimum: 1, maximum: 100, default: 10, description: 'Page size.' },
      starting_after: { type: 'string', description: 'Cursor: the last invoice id of the previous page.' },
    },
  },
  call: (stripe, input) => stripe.invoices.list(input),
});

interface InvoiceCreateInput {
  customer: string;
  collection_method?: 'charge_automatically' | 'send_invoice';
  days_until_due?: number;
  description?: string;
  auto_advance?: boolean;
  metadata?: Record<string, string>;
}

export const invoicesCreate = stripeAction<InvoiceCreateInput>({
  id: 'invoices.create',
  description: 'Create a draft invoice for a customer (idempotent per step).',
  object: 'invoice',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['customer'],
    properties: {
      customer: { type: 'string', pattern: '^cus_', description: 'Who is billed.' },
      collection_method: { enum: ['charge_automatically', 'send_invoice'], description: 'How it is paid.' },
      days_until_due: { type: 'integer', minimum: 0, description: 'With send_invoice.' },
      description: { type: 'string', description: 'Memo shown on the invoice.' },
      auto_advance: { type: 'boolean', description: 'Let Stripe finalize it automatically.' },
      metadata,
    },
  },
  call: (stripe, input, ctx) => stripe.invoices.create(input, createOptions(ctx)),
});
