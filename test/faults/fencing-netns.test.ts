/**
 * Fencing across a real network partition: worker A is an `atlas worker` process in a network
 * namespace of its own, reaching the database over a veth pair; the link is cut mid-step (the
 * process lives on, its packets are lost), worker B takes the run over, the link comes back
 * before A's step ends, and A's stale checkpoint is refused (its log says so) while the ledger holds only B's work.
 * Needs root and `ip`; elsewhere it is skipped, saying why. The namespace and the veth pair
 * are removed at the end, on failure too.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEnv, type LongRunning, startCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import {
  expectOnlyNewOwnerWrote,
  fencingWorkflow,
  firstStepWorker,
  waitForTakeover,
} from '../helpers/fencing.ts';
import { createNetns, type Netns, netnsUnavailable } from '../helpers/netns.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

describe('fencing across a network namespace', () => {
  const database = useTestDatabase();
  const cleanup: Array<() => Promise<unknown>> = [];

  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => {});
  });

  it('refuses the checkpoint of a worker whose link was cut until another took its run', async (ctx) => {
    const unavailable = netnsUnavailable();
    if (unavailable) {
      console.warn(`fencing-netns: skipped: ${unavailable}`);
      ctx.skip(`skipped: ${unavailable}`);
    }
    const ns: Netns = await createNetns();
    cleanup.push(() => ns.remove());
    // The database listens on loopback: a forwarder on this side of the link carries A's
    // connections to it.
    const direct = new URL(database.directUrl);
    const forwarder: TcpProxy = await startTcpProxy(direct.hostname, Number(direct.port), ns.hostAddress);
    cleanup.push(() => forwarder.close());
    const url = new URL(database.directUrl);
    url.hostname = ns.hostAddress;
    url.port = String(forwarder.port);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-netns-'));
    cleanup.push(() => fs.rm(dir, { recursive: true, force: true }));
    await fs.mkdir(path.join(dir, 'manifests'));
    // The step outlasts the cut and the takeover: A's checkpoint leaves after the link is back.
    const workflow = fencingWorkflow(12_000);
    await fs.writeFile(path.join(dir, 'manifests', 'wf.yaml'), workflow);

    const env = { ATLAS_WORKER_TIMEOUT: '3s' };
    const b: TestEngine = await startTestEngine(database, {
      manifests: { 'wf.yaml': workflow },
      env,
    });
    cleanup.push(() => b.stop());
    const a: LongRunning = startCli(
      ['worker'],
      cliEnv({
        DATABASE_URL: url.href,
        DIRECT_URL: url.href,
        ATLAS_HOME: dir,
        ATLAS_MANIFESTS: path.join(dir, 'manifests'),
        ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
        ATLAS_WORKER_CONCURRENCY: '2',
        ATLAS_FEED: 'off',
        ...env,
      }),
      ns.exec,
    );
    cleanup.push(() => a.stop('SIGKILL'));
    await a.waitFor(/Atlas worker started/, 60_000);

    const { run } = await b.runtime.trigger({ tenantId: 'acme', workflowId: 'WF-922' });
    const stale = await firstStepWorker(database.db, run.id);
    expect(stale.split(':')[1]).toBe(String(a.child.pid));
    await ns.cut();
    await b.startWorker(2);
    await waitForTakeover(database.db, run.id, stale);
    await ns.restore();

    const done = await b.runtime.waitForRun('acme', run.id, 30_000);
    expect(done?.status).toBe('succeeded');
    await a.waitFor(/run:fenced/, 60_000);
    await expectOnlyNewOwnerWrote(database.db, run.id, stale);
  }, 180_000);
});
