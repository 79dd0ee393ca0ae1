/**
 * The feed's replication slot: a database that cannot feed it gets one clear sentence and the
 * feed off (the engine keeps running, `/v1/events` answers 503); a slot that keeps more WAL
 * than ATLAS_FEED_MAX_LAG is dropped, reported in /metrics, and every tenant gets `feed.gap`.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import client from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../engine/db/embedded.ts';
import { makeDb } from '../../engine/db/knex.ts';
import { feedUnavailable, slotName, startFeed } from '../../engine/feed/index.ts';
import { silentLogger } from '../../engine/log.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { poll } from '../helpers/poll.ts';
import { startApi } from '../http/harness.ts';

const noEnqueue = async () => undefined;

describe('the change feed slot', () => {
  const database = useTestDatabase();
  beforeAll(async () => {
    await database.db('tenants').insert([
      { id: 'acme', name: 'Acme' },
      { id: 'globex', name: 'Globex' },
    ]);
  });

  it('is off, with one sentence naming the fix, for a user without the replication right', async () => {
    const role = `feed_user_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client(database.url);
    await admin.connect();
    await admin.query(`create role ${role} login password 'feed-test-password'`);
    const url = new URL(database.url);
    url.username = role;
    url.password = 'feed-test-password';
    const db = makeDb(url.toString(), { poolSize: 2 });
    const warnings: string[] = [];
    const log = Object.assign(Object.create(silentLogger), {
      warn: (msg: unknown) => warnings.push(String(msg)),
    }) as typeof silentLogger;
    try {
      const feed = await startFeed({
        db,
        url: url.toString(),
        log,
        enqueue: noEnqueue,
        maxLagBytes: 2 ** 20,
      });
      expect(feed.status.on).toBe(false);
      expect(feed.status.reason).toMatch(
        /^the change feed is off: the database user may not use replication; grant it REPLICATION/,
      );
      expect(warnings).toEqual([feed.status.reason]);
      await feed.stop();
    } finally {
      await db.destroy();
      await admin.query(`drop role ${role}`);
      await admin.end();
    }
  });

  it('is off on a server below wal_level=logical, and /v1/events says why with a 503', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-feed-replica-'));
    await fs.chmod(dir, 0o755);
    const server = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'pg'),
      settings: { wal_level: 'replica', fsync: 'off' },
    });
    const db = makeDb(server.url, { poolSize: 2 });
    try {
      const reason = await feedUnavailable(db);
      expect(reason).toMatch(
        /^the change feed is off: the database runs with wal_level=replica; start PostgreSQL with wal_level=logical/,
      );
    } finally {
      await db.destroy();
      await server.stop();
      await fs.rm(dir, { recursive: true, force: true });
    }
    const api = await startApi(database.db, {}, {});
    try {
      const token = await api.token({ tenants: ['acme'] });
      const res = await api.call('GET', '/v1/events', { token, tenant: 'acme' });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/change feed is off/);
    } finally {
      await api.close();
    }
  }, 60_000);

  it('pauses reading while changes wait, and records every one of them', async () => {
    const { db, url } = database;
    const feed = await startFeed({
      db,
      url,
      log: silentLogger,
      enqueue: noEnqueue,
      maxLagBytes: 2 ** 30,
      queueHigh: 20,
    });
    try {
      const ids = Array.from(
        { length: 300 },
        (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      );
      // One transaction each, committed together: they arrive faster than they are recorded.
      await Promise.all(
        ids.map((id) =>
          db('files').insert({
            id,
            tenant_id: 'acme',
            name: `f${id.slice(-4)}.txt`,
            content_type: 'text/plain',
            size: 1,
            sha256: '0'.repeat(64),
            storage_key: `tenants/acme/${id}`,
            status: 'ready',
            created_by: 'test',
          }),
        ),
      );
      await poll(async () => {
        const [row] = await db('feed_events').where({ type: 'file.created' }).count({ n: '*' });
        return Number(row?.n) === ids.length ? true : undefined;
      }, 30_000);
      expect(await client.register.getSingleMetricAsString('atlas_feed_pauses_total')).toMatch(
        /atlas_feed_pauses_total [1-9]/,
      );
    } finally {
      await feed.stop();
    }
  }, 60_000);

  it('drops a slot past ATLAS_FEED_MAX_LAG, reports it in /metrics and tells every tenant', async () => {
    const { db, url } = database;
    const slot = await slotName(db);
    // A feed that read the slot once, then stopped: the slot stays and WAL piles up behind it.
    const first = await startFeed({ db, url, log: silentLogger, enqueue: noEnqueue, maxLagBytes: 2 ** 20 });
    expect(first.status.on).toBe(true);
    await first.stop();
    const before = await db.raw('select 1 from pg_replication_slots where slot_name = ?', [slot]);
    expect(before.rows).toHaveLength(1);
    for (let i = 0; i < 2; i++) {
      await db('tenants').insert({ id: `wal-${i}`, name: 'WAL', status: 'disabled' });
      await db.raw('select pg_switch_wal()');
    }
    const second = await startFeed({ db, url, log: silentLogger, enqueue: noEnqueue, maxLagBytes: 2 ** 20 });
    try {
      const gaps = await db('feed_events').where({ type: 'feed.gap' }).orderBy('tenant_id');
      expect(gaps.map((g: { tenant_id: string }) => g.tenant_id)).toEqual(['acme', 'globex']);
      expect(gaps[0].data).toMatchObject({ reason: expect.stringMatching(/over ATLAS_FEED_MAX_LAG/) });
      const recorded = await db('feed_slots').where({ slot_name: slot }).whereNotNull('dropped_at').first();
      expect(Number(recorded.dropped_lag_bytes)).toBeGreaterThan(2 ** 20);
      // A new slot reads on from now.
      const after = await db.raw('select 1 from pg_replication_slots where slot_name = ?', [slot]);
      expect(after.rows).toHaveLength(1);
      const metrics = await client.register.metrics();
      expect(metrics).toMatch(/atlas_feed_gaps_total 1/);
      expect(metrics).toMatch(/atlas_feed_slot_retained_bytes \d+/);
      expect(metrics).toMatch(/atlas_feed_slot_lag_bytes \d+/);
    } finally {
      await second.stop();
    }
  }, 60_000);
});

afterAll(() => {
  client.register.clear();
});
