/**
 * Forgetting event ids older than their route's `dedupWindow`: past it, a provider no longer
 * redelivers (Stripe stops after three days), and the table stays the size of the window.
 * Deletes in bounded batches so a large backlog never holds long locks.
 */
import type { Knex } from 'knex';
import { deleteRouteEventsBefore } from '../db/webhook-events.ts';
import type { CompiledWebhookRoute } from './routes.ts';

const BATCH = 5000;

export async function pruneWebhookEvents(
  db: Knex,
  routes: Iterable<CompiledWebhookRoute>,
  now: Date = new Date(),
): Promise<number> {
  let total = 0;
  for (const route of routes) {
    const before = new Date(now.getTime() - route.dedupWindowMs);
    for (;;) {
      const deleted = await deleteRouteEventsBefore(db, route.id, before, BATCH);
      total += deleted;
      if (deleted < BATCH) break;
    }
  }
  return total;
}
