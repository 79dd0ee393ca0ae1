/**
 * Inbound deliveries are group-committed, and several batches are in flight at once whenever
 * several processes serve one database. What that must not change: one event id in two
 * batches in flight starts one run (the second batch's insert waits for the first's commit
 * on the unique index and answers `duplicate`, naming the first delivery's runs), and a batch
 * inserts its events in key order, so that two batches cannot deadlock on each other's rows.
 */
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertWebhookEvents } from '../../engine/db/webhook-events.ts';
import { useTestDatabase } from '../helpers/db.ts';
import {
  freshEventId,
  post,
  readFixture,
  signedStripe,
  startWebhookEngine,
  type WebhookEngine,
} from './harness.ts';

const database = useTestDatabase();
/** Two processes serving the same database. */
let atlas: WebhookEngine;
let other: WebhookEngine;
let event: Record<string, unknown>;
const SECRET = 'whsec_batchesBatchesBatches0123456789ab';

beforeAll(async () => {
  atlas = await startWebhookEngine(database);
  other = await startWebhookEngine(database);
  event = await readFixture('payment_intent.succeeded.json');
  await atlas.tenant('acme', { workflows: ['WF-021'], secrets: { STRIPE_WEBHOOK_SECRET: SECRET } });
});
afterAll(async () => {
  await other?.close();
  await atlas?.close();
});

const deliver = (tenant: string, id: string, to = atlas) => {
  const d = signedStripe({ ...event, id }, SECRET);
  return post(`${to.url}/v1/webhooks/stripe?tenantId=${tenant}`, d.body, d.headers);
};
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Holds the tenant's row: a batch writing its events waits on their foreign key check. */
async function holdTenant(id: string): Promise<Knex.Transaction> {
  const lock = await atlas.db.transaction();
  await lock('tenants').where({ id }).forUpdate();
  return lock;
}

describe('several intake batches in flight', () => {
  it('one event in two batches in flight: one run, the second answers duplicate with the first one run ids', async () => {
    const id = freshEventId();
    const lock = await holdTenant('acme');
    let answers: Response[];
    try {
      const first = deliver('acme', id);
      await pause(300);
      // Another process's batch: its insert waits on the unique index for the first's commit.
      const second = deliver('acme', id, other);
      await pause(300);
      await lock.commit();
      answers = await Promise.all([first, second]);
    } finally {
      if (!lock.isCompleted()) await lock.rollback();
    }
    expect(answers.map((a) => [a.status, a.headers.get('atlas-webhook-outcome')])).toEqual([
      [200, 'accepted'],
      [200, 'duplicate'],
    ]);
    const runs = await atlas
      .db('workflow_runs')
      .where({ tenant_id: 'acme' })
      .whereRaw("trigger->>'eventId' = ?", [id]);
    expect(runs).toHaveLength(1);
    const stored = await atlas.db('webhook_events').where({ tenant_id: 'acme', event_id: id });
    expect(stored.map((e) => e.run_ids)).toEqual([[runs[0].id]]);
    const audit = await atlas
      .db('audit_log')
      .where({ tenant_id: 'acme', entity_type: 'webhook', entity_id: `stripe:${id}` })
      .orderBy('id');
    expect(audit.map((a) => a.summary.runIds)).toEqual([[runs[0].id], [runs[0].id]]);
  });

  it('a repeat within one batch also names the runs its first delivery started', async () => {
    const id = freshEventId();
    const answers = await Promise.all(Array.from({ length: 4 }, () => deliver('acme', id)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    const runs = await atlas
      .db('workflow_runs')
      .where({ tenant_id: 'acme' })
      .whereRaw("trigger->>'eventId' = ?", [id]);
    expect(runs).toHaveLength(1);
    const audit = await atlas
      .db('audit_log')
      .where({ tenant_id: 'acme', entity_type: 'webhook', entity_id: `stripe:${id}` });
    expect(audit.map((a) => a.summary.runIds)).toEqual(Array(4).fill([runs[0].id]));
  });

  it('inserts a batch of events in key order, whatever order they arrived in', async () => {
    const keys = ['evt_order_c', 'evt_order_a', 'evt_order_b'];
    const rows = await atlas.db.transaction((trx) =>
      insertWebhookEvents(
        trx,
        keys.map((eventId, ord) => ({
          ord,
          fresh: true,
          tenant_id: 'acme',
          route_id: 'stripe',
          event_id: eventId,
          event_type: 'payment_intent.succeeded',
          payload: {},
          received_at: new Date().toISOString(),
          candidates: [],
        })),
      ),
    );
    const byId = [...rows].sort((a, b) => Number(a.id) - Number(b.id)).map((r) => keys[r.ord]);
    expect(byId).toEqual(['evt_order_a', 'evt_order_b', 'evt_order_c']);
  });
});
