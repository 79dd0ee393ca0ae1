/**
 * Round trips as a budget: what each hot path asks of PostgreSQL, counted on the engine's
 * pool by engine/db/query-counter.ts and held to the numbers in BUDGETS. A change that adds a
 * round trip, a statement or a commit to one of these paths fails here; one that removes some
 * lowers its budget in the same commit.
 *
 * Only the queries a request causes are counted (its handler runs in an AsyncLocalStorage
 * context; work it starts after answering, such as the run outbox's dispatch, inherits it),
 * with caches warm: the tenant's status, its secrets and the pinned manifest are read once
 * per process, not per request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../engine/auth/mint.ts';
import { LedgerWriter } from '../../engine/db/ledger-writer.ts';
import { countQueries, type QueryCounts } from '../../engine/db/query-counter.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { waitFor } from '../helpers/poll.ts';
import {
  freshEventId,
  JWT_SECRET,
  readFixture,
  signedStripe,
  startWebhookEngine,
  type WebhookEngine,
} from '../webhooks/harness.ts';

/** The budgets. The step checkpoint's is the one number to change when the checkpoint changes. */
const BUDGETS: Record<string, QueryCounts> = {
  // run_view: the run with its attempts, links and signals, read as the tenant.
  'GET /v1/runs/:id': { roundTrips: 1, statements: 1, commits: 1 },
  // begin, the run, its audit entry, commit. The run outbox's dispatch that follows is not
  // the request's: it is shared by every run committed meanwhile and may run in the sweep's
  // turn rather than this request's (see DISPATCH).
  'POST /v1/workflows/:id/runs': { roundTrips: 4, statements: 4, commits: 1 },
  // begin, the event, its runs, the audit entry with the event's run ids, commit (the
  // dispatch after it is shared, as for a POST). Group-committed: deliveries arriving
  // together share all of these.
  'a webhook delivery': { roundTrips: 5, statements: 5, commits: 1 },
  'a step checkpoint': { roundTrips: 1, statements: 1, commits: 1 },
};

const SECRET = 'whsec_roundTripsRoundTrips0123456789';
const database = useTestDatabase();
const request = new AsyncLocalStorage<true>();
let atlas: WebhookEngine;
let server: Server;
let url: string;
let headers: Record<string, string>;

beforeAll(async () => {
  atlas = await startWebhookEngine(database);
  await atlas.tenant('acme', { workflows: ['WF-021'], secrets: { STRIPE_WEBHOOK_SECRET: SECRET } });
  const handler = atlas.engine.app!.callback();
  server = createServer((req, res) => request.run(true, () => handler(req, res)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const token = await mintToken({ secret: JWT_SECRET, sub: 'perf', tenants: ['acme'], ttlSeconds: 300 });
  headers = { authorization: `Bearer ${token}`, 'x-tenant-id': 'acme', 'content-type': 'application/json' };
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await atlas?.close();
});

/** The run outbox's dispatch statement: one per batch of committed runs, whoever sends it. */
const DISPATCH = /set dispatched = true/;
/** The statement that inserts new runs. */
const RUN_INSERT = /atlas_insert_runs/;

/** Counts the queries `work` causes in the request context, once everything it started is done. */
async function counted(
  work: () => Promise<unknown>,
  settled: () => Promise<boolean>,
  include: (sql: string) => boolean = () => true,
) {
  const counter = countQueries(atlas.db, (sql) => request.getStore() === true && include(sql));
  try {
    await work();
    await waitFor(settled, 5_000);
    return { counts: counter.counts(), texts: counter.texts() };
  } finally {
    counter.stop();
  }
}

const undispatched = async () =>
  Number(
    (
      (await atlas
        .db('workflow_runs')
        .where({ tenant_id: 'acme', dispatched: false })
        .count('* as n')) as Array<{
        n: string;
      }>
    )[0]!.n,
  ) === 0;

async function startRun(): Promise<string> {
  const res = await fetch(`${url}/v1/workflows/WF-001/runs`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ input: { name: 'Ada' } }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function deliver(): Promise<void> {
  const event = await readFixture('payment_intent.succeeded.json');
  const { body, headers: signed } = signedStripe({ ...event, id: freshEventId() }, SECRET);
  const res = await fetch(`${url}/v1/webhooks/stripe?tenantId=acme`, {
    method: 'POST',
    body,
    headers: signed,
  });
  expect(res.status).toBe(200);
}

function expectWithin(path: string, measured: { counts: QueryCounts; texts: string[] }) {
  const budget = BUDGETS[path]!;
  const over = (Object.keys(budget) as Array<keyof QueryCounts>).filter(
    (k) => measured.counts[k] > budget[k],
  );
  expect(
    over.map((k) => `${path}: ${k} ${measured.counts[k]} > ${budget[k]}\n${measured.texts.join('\n---\n')}`),
  ).toEqual([]);
  // A budget that is higher than what the path needs hides a regression until it fills up.
  expect(measured.counts, `${path} got cheaper: lower its budget`).toEqual(budget);
}

describe('round trips per hot path (warm caches)', () => {
  it('GET /v1/runs/:id', async () => {
    const id = await startRun();
    await fetch(`${url}/v1/runs/${id}`, { headers });
    const measured = await counted(
      async () => {
        const res = await fetch(`${url}/v1/runs/${id}`, { headers });
        expect(res.status).toBe(200);
      },
      async () => true,
    );
    expectWithin('GET /v1/runs/:id', measured);
  });

  it('POST /v1/workflows/:id/runs', async () => {
    await startRun();
    await waitFor(undispatched, 5_000);
    expectWithin(
      'POST /v1/workflows/:id/runs',
      await counted(startRun, undispatched, (sql) => !DISPATCH.test(sql)),
    );
  });

  it('POST /v1/workflows/:id/runs, 8 at once: they share their commits, each run keeps its audit entry', async () => {
    await waitFor(undispatched, 5_000);
    let ids: string[] = [];
    const measured = await counted(async () => {
      // The tenant's row locked, the first transaction waits on its foreign key check while
      // the other requests arrive.
      const lock = await atlas.db.transaction();
      await lock('tenants').where({ id: 'acme' }).forUpdate();
      const started = Promise.all(Array.from({ length: 8 }, startRun));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await lock.commit();
      ids = await started;
    }, undispatched);
    // Without sharing: 8 transactions (11 commits with the dispatches after them).
    const transactions = measured.texts.filter((t) => /^commit/i.test(t.trim())).length;
    expect(transactions).toBeLessThanOrEqual(3);
    // The runs of one shared transaction are inserted by one statement.
    expect(measured.texts.filter((t) => RUN_INSERT.test(t)).length).toBe(transactions);
    const audited = await atlas.db('audit_log').whereIn('entity_id', ids).where({ action: 'runs.trigger' });
    expect(audited.map((a: { entity_id: string }) => a.entity_id).sort()).toEqual([...ids].sort());
    expect(await atlas.db('workflow_runs').whereIn('id', ids).count('* as n')).toEqual([{ n: 8 }]);
  });

  it("a refused trigger does not roll back the others' shared transaction", async () => {
    await waitFor(undispatched, 5_000);
    const post = (input: unknown) =>
      fetch(`${url}/v1/workflows/WF-001/runs`, { method: 'POST', headers, body: JSON.stringify({ input }) });
    let statuses: number[] = [];
    const measured = await counted(async () => {
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) => post(i % 2 === 0 ? { name: 'Ada' } : { name: 42 })),
      );
      statuses = answers.map((a) => a.status);
    }, undispatched);
    expect(statuses).toEqual([202, 422, 202, 422, 202, 422, 202, 422]);
    expect(measured.texts.filter((t) => /^rollback/i.test(t.trim()))).toEqual([]);
  });

  it('a webhook delivery', async () => {
    await deliver();
    await waitFor(undispatched, 5_000);
    expectWithin('a webhook delivery', await counted(deliver, undispatched, (sql) => !DISPATCH.test(sql)));
  });

  it('a step checkpoint', async () => {
    const runId = await startRun();
    const writer = new LedgerWriter(atlas.db);
    const item = { tenantId: 'acme', runId, runAttempt: 1, leaseEpoch: 0, worker: 'perf', finished: [] };
    const attempt = {
      stepId: 'greet',
      uses: 'core.noop',
      attempt: 1,
      maxAttempts: 1,
      status: 'running' as const,
    };
    const measured = await counted(
      () => request.run(true, () => writer.write({ ...item, started: [attempt] })),
      async () => true,
    );
    expectWithin('a step checkpoint', measured);
  });
});
