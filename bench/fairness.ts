/**
 * Fairness between tenants at full size: 10,000 runs of one tenant queued (`--backlog`), a
 * worker busy with them (`--concurrency`, steps of `--step-ms`), and one run of another
 * tenant: how long it waits to start. Part of `npm run chaos`.
 *
 *   npx tsx bench/fairness.ts [--backlog 10000] [--concurrency 16] [--step-ms 20]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { makeDb } from '../engine/db/knex.ts';
import { migrateUp } from '../engine/db/migrate.ts';
import { startTestEngine } from '../test/helpers/engine.ts';
import { busyWorkflow, startBehindBacklog } from '../test/runtime/fairness-kit.ts';
import { benchDatabase } from './support.ts';

const { values } = parseArgs({
  options: {
    backlog: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '16' },
    'step-ms': { type: 'string', default: '20' },
  },
});
const BACKLOG = Number(values.backlog);

const database = await benchDatabase('atlas_bench_fairness');
const db = makeDb(database.url, { poolSize: 10 });
try {
  await migrateUp(db, database.url);
  const t = await startTestEngine(
    { url: database.url, directUrl: database.url, name: 'atlas_bench_fairness', db, drop: async () => {} },
    {
      manifests: { 'busy.yaml': busyWorkflow('WF-960', Number(values['step-ms'])) },
      tenants: ['busy', 'quiet'],
    },
  );
  try {
    await t.startWorker(Number(values.concurrency));
    const f = await startBehindBacklog(t, db, {
      busy: 'busy',
      quiet: 'quiet',
      workflowId: 'WF-960',
      backlog: BACKLOG,
    });
    console.log(
      `fairness: behind ${BACKLOG.toLocaleString('en')} queued runs of one tenant (${f.queued.toLocaleString('en')} still queued), ` +
        `another tenant's run started after ${f.waitedMs} ms (target 2,000 ms); load average ${os.loadavg()[0]!.toFixed(1)}`,
    );
    process.exitCode = f.waitedMs < 2_000 ? 0 : 1;
  } finally {
    await t.stop();
  }
} finally {
  await db.destroy();
  await database.stop();
}
