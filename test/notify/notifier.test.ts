/**
 * The notifier with several processes sweeping one outbox at once (two notifiers with pools of
 * their own, and the engine's): every due event goes out in exactly one message, a window never
 * holds two messages about one subject, and a tenant's events never reach another tenant's
 * channels.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDb } from '../../engine/db/knex.ts';
import { putNotificationSettings } from '../../engine/db/notifications.ts';
import { silentLogger } from '../../engine/log.ts';
import { Notifier, notifyRunFailed } from '../../engine/notify/index.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { FAILING } from './harness.ts';

describe('two notifiers sweeping one outbox', () => {
  const database = useTestDatabase();
  let engine: TestEngine;
  let pools: ReturnType<typeof makeDb>[] = [];
  let notifiers: Notifier[];

  beforeAll(async () => {
    engine = await startTestEngine(database, {
      tenants: ['acme', 'globex'],
      manifests: { 'wf.yaml': FAILING },
    });
    pools = [0, 1].map(() => makeDb(database.url, { poolSize: 4 }));
    // The engine's own notifier sweeps too: three processes in all.
    notifiers = pools.map(
      (db) =>
        new Notifier({
          db,
          log: silentLogger,
          enqueue: (job, trx) => engine.runtime.enqueueJob(job, trx),
        }),
    );
    await putNotificationSettings(
      database.db,
      'acme',
      { channels: { telegram: { chatId: 1 } }, events: ['run.failed'] },
      'test',
    );
    await putNotificationSettings(
      database.db,
      'globex',
      { channels: { telegram: { chatId: 2 } }, events: ['run.failed'] },
      'test',
    );
  });
  afterAll(async () => {
    for (const n of notifiers ?? []) await n.stop();
    await engine?.stop();
    await Promise.all(pools.map((p) => p.destroy()));
  });

  const fail = (tenant: string, workflow: string, i: number) =>
    notifyRunFailed(
      database.db,
      { id: `run-${tenant}-${i}`, tenant_id: tenant, workflow_id: workflow },
      { step: 's', message: `failure ${i}` },
    );
  const sweepAll = () => Promise.all([...notifiers, ...notifiers].map((n) => n.sweep()));
  const jobs = () =>
    database.db('jobs').where({ actor: 'atlas:notify' }).orderBy('created_at').select('tenant_id', 'payload');

  it('sends each burst once per subject, holds the next one for the window, and keeps tenants apart', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => fail(i % 2 ? 'acme' : 'globex', i % 4 < 2 ? 'WF-A' : 'WF-B', i)),
    );
    await sweepAll();
    await sweepAll();
    const first = await jobs();
    // Two tenants × two workflows: four messages, each a digest of its five failures.
    expect(first).toHaveLength(4);
    for (const j of first) {
      expect(j.payload.chat_id).toBe(j.tenant_id === 'acme' ? 1 : 2);
      expect(j.payload.text).toMatch(
        /^Atlas \((acme|globex)\): workflow WF-[AB] failed\n5 run\.failed events/,
      );
      expect(j.payload.text).toContain(`Atlas (${j.tenant_id})`);
    }

    // More failures inside the window: held, however many processes sweep.
    await Promise.all(Array.from({ length: 6 }, (_, i) => fail('acme', 'WF-A', 100 + i)));
    await sweepAll();
    await sweepAll();
    expect(await jobs()).toHaveLength(4);
    const held = await database.db('notification_events').where({ tenant_id: 'acme' });
    expect(held).toHaveLength(6);
    for (const e of held) expect(e.due_at.getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);

    // The window ends: one digest of the six.
    await database
      .db('notification_windows')
      .update({ last_sent_at: database.db.raw("last_sent_at - interval '15 minutes'") });
    await database
      .db('notification_events')
      .update({ due_at: database.db.raw("due_at - interval '15 minutes'") });
    await sweepAll();
    await sweepAll();
    const all = await jobs();
    expect(all).toHaveLength(5);
    expect(all[4]!.payload.text).toContain('6 run.failed events about WF-A');
    expect(await database.db('notification_events')).toHaveLength(0);
  });
});
