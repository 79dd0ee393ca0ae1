/**
 * Fencing: a worker cut off from the database mid-step (not killed) loses its run to another
 * worker; when its connection comes back, its checkpoint carries a lease epoch that moved on
 * and is refused and counted, and the run's ledger holds only the new owner's attempts.
 * The partition is a TCP proxy on 127.0.0.1 that holds every byte of worker A's connections.
 */
import client from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDb } from '../../engine/db/knex.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import {
  expectOnlyNewOwnerWrote,
  fencingWorkflow,
  firstStepWorker,
  waitForTakeover,
} from '../helpers/fencing.ts';
import { poll } from '../helpers/poll.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

async function fencedCount(): Promise<number> {
  const metric = client.register.getSingleMetric('atlas_checkpoints_fenced_total');
  const values = metric ? (await metric.get()).values : [];
  return values.reduce((sum, v) => sum + v.value, 0);
}

describe('fencing with a lease epoch', () => {
  const database = useTestDatabase();
  const engines: TestEngine[] = [];
  let proxy: TcpProxy | undefined;
  let partitionedDb: ReturnType<typeof makeDb> | undefined;

  afterAll(async () => {
    proxy?.resume();
    for (const e of engines) await e.stop();
    await partitionedDb?.destroy();
    await proxy?.close();
  });

  it('refuses the checkpoint of a worker whose lease moved on while it was cut off', async () => {
    const direct = new URL(database.directUrl);
    proxy = await startTcpProxy(direct.hostname, Number(direct.port));
    const proxied = new URL(database.directUrl);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    partitionedDb = makeDb(proxied.href, { poolSize: 5 });
    const env = { ATLAS_WORKER_TIMEOUT: '3s' };
    const manifests = { 'wf.yaml': fencingWorkflow(2500) };
    const a = await startTestEngine(
      { ...database, db: partitionedDb, url: proxied.href, directUrl: proxied.href },
      { manifests, env },
    );
    engines.push(a);
    const b = await startTestEngine(database, { manifests, env });
    engines.push(b);
    const before = await fencedCount();
    await a.startWorker(2);

    const { run } = await b.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-922' });
    const stale = await firstStepWorker(database.db, run.id);
    // The partition: A keeps running its step, but nothing it sends reaches the database.
    proxy.pause();
    await b.startWorker(2);
    await waitForTakeover(database.db, run.id, stale);
    // A's step has ended by now and its checkpoint waits in the proxy: let it through.
    await new Promise((r) => setTimeout(r, 1_000));
    proxy.resume();

    const done = await b.runtime.waitForRun('acme', run.id, 30_000);
    expect(done?.status).toBe('succeeded');
    await poll(async () => ((await fencedCount()) > before ? true : undefined), 15_000);
    await expectOnlyNewOwnerWrote(database.db, run.id, stale);
  }, 120_000);
});
