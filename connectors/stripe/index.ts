import { defineConnector } from 'atlas-engine/sdk';
import { STRIPE_KEY } from './client.ts';
import { checkoutSessionsCreate } from './lib/actions/checkout-sessions.ts';
import { customersCreate, customersRetrieve } from './lib/actions/customers.ts';
import { invoicesCreate, invoicesList } from './lib/actions/invoices.ts';
import { paymentIntentsCreate, paymentIntentsRetrieve } from './lib/actions/payment-intents.ts';
import { refundsCreate } from './lib/actions/refunds.ts';

/** Stripe through the official SDK (https://docs.stripe.com/api). */
export const stripe = defineConnector({
  id: 'stripe',
  description: 'Customers, payment intents, refunds, checkout sessions and invoices on Stripe.',
  // The tenant's own key only: the platform's Stripe account is never offered to tenants.
  auth: { type: 'secret', secrets: [STRIPE_KEY] },
  baseUrl: 'https://api.stripe.com',
  // Stripe's live-mode default: 100 read and 100 write operations per second
  // (https://docs.stripe.com/rate-limits); stay under it with one shared budget.
  rateLimits: [{ limit: 100, windowMs: 1000 }],
  actions: [
    customersCreate,
    customersRetrieve,
    paymentIntentsCreate,
    paymentIntentsRetrieve,
    refundsCreate,
    checkoutSessionsCreate,
    invoicesList,
    invoicesCreate,
  ],
});
