/**
 * The dispatcher's statement before and after its indexes (migration 300), on the same
 * database in the same run: milliseconds per call (EXPLAIN ANALYZE, median of `--calls`),
 * each call in a transaction rolled back so that every call sees the same outbox.
 *
 *   npx tsx bench/dispatch.ts [--young 15000] [--finished 100000] [--churn 5000] [--backlog 10000] [--calls 15]
 *
 * The outbox as a poke finds it (5 undispatched runs; `--churn` runs dispatched since the last
 * vacuum, whose outbox index entries are dead, as under load), in a young table (`--young`
 * ended runs) and in a grown one (`--finished` more); then a backlog: `--backlog`
 * undispatched runs of one tenant at its limit, and 5 of another.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { type Knex, makeDb } from '../engine/db/knex.ts';
import { migrateUp } from '../engine/db/migrate.ts';
import { addRunJobsSql } from '../engine/db/queue.ts';
import { DISPATCH_SQL } from '../engine/db/run-outbox.ts';
import { benchDatabase } from './support.ts';

const { values } = parseArgs({
  options: {
    young: { type: 'string', default: '15000' },
    finished: { type: 'string', default: '100000' },
    churn: { type: 'string', default: '5000' },
    backlog: { type: 'string', default: '10000' },
    calls: { type: 'string', default: '15' },
  },
});
const CALLS = Number(values.calls);

/** The statement and its index before migration 300: first come, first served. */
const OLD_INDEX =
  'create index workflow_runs_undispatched on workflow_runs (created_at) where not dispatched';
const OLD_SQL = `with picked as (
    select id from workflow_runs where not dispatched order by created_at limit 500 for update skip locked
  ), marked as (
    update workflow_runs r set dispatched = true from picked where r.id = picked.id
    returning r.id, r.tenant_id
  ), queued as (${addRunJobsSql('marked', 'null')})
  select (select count(*) from marked)::int as moved, (select n from queued) as jobs`;

async function insertRuns(db: Knex, tenant: string, n: number, status: string, dispatched: boolean) {
  await db.raw(
    `insert into workflow_runs (id, tenant_id, workflow_id, manifest_hash, status, input, trigger, dispatched, created_at)
     select gen_random_uuid(), ?, 'WF-950', 'bench', ?, '{}', '{}', ?, now() - make_interval(secs => g)
       from generate_series(1, ?) g`,
    [tenant, status, dispatched, n],
  );
}

/** `read` in a transaction without `drop`'s indexes, rolled back: every call sees the same outbox. */
async function rolledBack<T>(
  db: Knex,
  drop: string[],
  read: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  const trx = await db.transaction();
  try {
    for (const index of drop) await trx.raw(`drop index ${index}`);
    return await read(trx);
  } finally {
    await trx.rollback();
  }
}

/** Milliseconds per call (median of EXPLAIN ANALYZE's execution times) and the runs one call moves. */
async function measure(db: Knex, sql: string, drop: string[]): Promise<[number, number]> {
  const times: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const { rows } = await rolledBack(db, drop, (trx) =>
      trx.raw<{ rows: Array<{ 'QUERY PLAN': Array<{ 'Execution Time': number }> }> }>(
        `explain (analyze, format json) ${sql}`,
      ),
    );
    times.push(rows[0]!['QUERY PLAN'][0]!['Execution Time']);
  }
  const { rows } = await rolledBack(db, drop, (trx) => trx.raw<{ rows: Array<{ moved: number }> }>(sql));
  times.sort((a, b) => a - b);
  return [times[Math.floor(times.length / 2)]!, rows[0]!.moved];
}

const database = await benchDatabase('atlas_bench_dispatch');
const db = makeDb(database.url, { poolSize: 4 });
try {
  await migrateUp(db, database.url);
  await db.raw('alter table workflow_runs set (autovacuum_enabled = false)');
  await db.raw(OLD_INDEX);
  await db('manifest_versions').insert({
    hash: 'bench',
    kind: 'Workflow',
    manifest_id: 'WF-950',
    content: {},
  });
  await db('tenants').insert([
    { id: 'tenant-a', name: 'A', settings: { limits: { runsInFlight: 200 } } },
    { id: 'tenant-b', name: 'B' },
  ]);
  // A young table first (what a fresh database holds after a minute of load), then a grown one.
  await insertRuns(db, 'tenant-b', Number(values.young), 'succeeded', true);
  await insertRuns(db, 'tenant-b', Number(values.churn), 'succeeded', false);
  // Statistics taken mid-burst, as autoanalyze leaves them: the churned runs still undispatched.
  await db.raw('analyze workflow_runs');
  await db('workflow_runs').where({ dispatched: false }).update({ dispatched: true });
  await insertRuns(db, 'tenant-a', 200, 'running', true);
  await insertRuns(db, 'tenant-b', 5, 'queued', false);

  const sql = db.raw(DISPATCH_SQL, { limit: 500, inFlight: 200 }).toString();
  const rows: Array<[string, [number, number], [number, number]]> = [];
  const row = async (name: string, analyze = true) => {
    if (analyze) await db.raw('analyze workflow_runs');
    const [counted] = (await db('workflow_runs').count({ n: '*' })) as Array<{ n: string }>;
    rows.push([
      `${name}, ${Number(counted?.n).toLocaleString('en')} runs in the table`,
      await measure(db, OLD_SQL, ['workflow_runs_outbox', 'workflow_runs_in_flight']),
      await measure(db, sql, ['workflow_runs_undispatched']),
    ]);
  };
  await row('5 new runs, statistics from mid-burst', false);
  await insertRuns(db, 'tenant-b', Number(values.finished), 'succeeded', true);
  await row('5 new runs, fresh statistics');
  await insertRuns(db, 'tenant-a', Number(values.backlog), 'queued', false);
  await row(`${Number(values.backlog).toLocaleString('en')} runs of a tenant at its limit, 5 of another`);
  console.log(
    `\nThe dispatcher's statement, ms per call (median of ${CALLS}), load ${os.loadavg()[0]!.toFixed(2)}`,
  );
  console.log('| outbox | before: ms (runs moved) | after: ms (runs moved) | after / before |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [name, [before, movedBefore], [after, movedAfter]] of rows) {
    const cells = [`${before.toFixed(2)} (${movedBefore})`, `${after.toFixed(2)} (${movedAfter})`];
    console.log(`| ${name} | ${cells.join(' | ')} | ${(after / before).toFixed(2)} |`);
  }
} finally {
  await db.destroy();
  await database.stop();
}
