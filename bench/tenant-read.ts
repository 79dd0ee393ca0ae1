// A run read as its tenant: the transaction of four round trips (begin, role and tenant,
// the statements, commit) against readAsTenant's one, alternating, in one run.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { type Knex, makeDb } from '../engine/db/knex.ts';
import { migrateUp } from '../engine/db/migrate.ts';
import { readAsTenant, type TenantRead, withTenant } from '../engine/db/rls.ts';
import { benchDatabase } from './support.ts';

const { values: knobs } = parseArgs({
  options: {
    duration: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '2' },
  },
});
const DURATION_MS = Number(knobs.duration) * 1000;
const CONCURRENCY = Number(knobs.concurrency);

async function rate(read: () => Promise<unknown>): Promise<number> {
  let done = 0;
  const until = Date.now() + DURATION_MS;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < until) {
        await read();
        done += 1;
      }
    }),
  );
  return done / (DURATION_MS / 1000);
}

async function main(): Promise<void> {
  const pgInstance = await benchDatabase('atlas_bench_tenant_read');
  const db: Knex = makeDb(pgInstance.url, { poolSize: 20 });
  try {
    await migrateUp(db, pgInstance.url);
    await db('tenants').insert({ id: 'bench', name: 'Bench' });
    const run = { id: randomUUID() };
    await db('manifest_versions').insert({ hash: 'x', kind: 'Workflow', manifest_id: 'WF-001', content: {} });
    await db('workflow_runs').insert({
      id: run.id,
      tenant_id: 'bench',
      workflow_id: 'WF-001',
      manifest_hash: 'x',
      status: 'queued',
      input: {},
      trigger: { type: 'manual' },
    });
    const reads: TenantRead[] = [
      { sql: 'select * from workflow_runs where tenant_id = $1 and id = $2', values: ['bench', run.id] },
      { sql: 'select * from run_signals where tenant_id = $1 and run_id = $2', values: ['bench', run.id] },
    ];
    const asTransaction = () =>
      withTenant(db, 'bench', async (trx) => {
        for (const r of reads) await trx.raw(r.sql.replace(/\$\d/g, '?'), [...r.values]);
      });
    const inOneMessage = () => readAsTenant(db, 'bench', reads);
    const figures = { transaction: [] as number[], batch: [] as number[] };
    for (let i = 0; i < Number(knobs.rounds); i++) {
      figures.transaction.push(await rate(asTransaction));
      figures.batch.push(await rate(inOneMessage));
    }
    const best = (xs: number[]) => Math.max(...xs);
    console.log(
      `tenant read of a run and its signals, ${CONCURRENCY} concurrent, ${knobs.duration} s x ${knobs.rounds}`,
    );
    console.log(
      `transaction (4 round trips): ${figures.transaction.map((n) => n.toFixed(0)).join(', ')} reads/s`,
    );
    console.log(`readAsTenant (1 round trip): ${figures.batch.map((n) => n.toFixed(0)).join(', ')} reads/s`);
    console.log(
      `ratio ${(best(figures.batch) / best(figures.transaction)).toFixed(2)}; load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
  } finally {
    await db.destroy();
    await pgInstance.stop();
  }
}

await main();
