/**
 * Knowledge-base documents in the change feed (`kb.document.ready`, `.failed`, `.deleted`),
 * read from this file's replication slot and delivered to a subscription; and the retention
 * of `feed_events`: rows older than ATLAS_FEED_RETENTION are pruned by the feed's periodic job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../engine/config.ts';
import { useTestDatabase } from '../helpers/db.ts';
import type { TestEngine } from '../helpers/engine.ts';
import { poll } from '../helpers/poll.ts';
import { type FeedApi, startFeedApi } from './harness.ts';

const SECRET = 'feed-kb-test-jwt-secret-0123456789abcdef';
const HOUR = 3_600_000;

interface EventView {
  id: string;
  type: string;
  tenantId: string;
  entity: { type: string; id: string; seq: number };
  data: Record<string, unknown>;
}

describe('the change feed and the knowledge base', () => {
  const database = useTestDatabase();
  let api: FeedApi | undefined;
  let engine: TestEngine;
  let base: string;
  let token: string;

  beforeAll(async () => {
    // Events recorded before the engine starts: one past the retention, one within it.
    await database.db('tenants').insert({ id: 'acme', name: 'acme' });
    const event = (hoursAgo: number, entityId: string) => {
      const at = new Date(Date.now() - hoursAgo * HOUR);
      return {
        tenant_id: 'acme',
        type: 'file.created',
        entity_type: 'file',
        entity_id: entityId,
        entity_seq: 1,
        data: JSON.stringify({ id: entityId }),
        occurred_at: at,
        created_at: at,
      };
    };
    await database.db('feed_events').insert([event(3, 'old-file'), event(0.5, 'recent-file')]);
    api = await startFeedApi(database, {
      secret: SECRET,
      tenant: 'acme',
      env: { ATLAS_FEED_RETENTION: '2h' },
    });
    ({ engine, base, token } = api);
  });

  afterAll(async () => {
    await api?.stop();
  });

  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'x-tenant-id': 'acme',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  const kbEvents = async (): Promise<EventView[]> => {
    const res = await call('GET', '/v1/events?limit=500&types=kb.document.*');
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: EventView[] }).items;
  };

  it('prunes events older than ATLAS_FEED_RETENTION, and keeps the others', async () => {
    await poll(async () => {
      const ids = await database.db('feed_events').pluck('entity_id');
      return ids.includes('old-file') ? undefined : true;
    });
    expect(await database.db('feed_events').where({ entity_id: 'recent-file' })).toHaveLength(1);
  });

  it('refuses a retention that is not a duration, naming the variable', () => {
    expect(() => loadConfig({ ATLAS_FEED_RETENTION: 'forever' })).toThrow(/ATLAS_FEED_RETENTION/);
    expect(loadConfig({}).feed.retentionMs).toBe(30 * 24 * HOUR);
  });

  it('turns documents ingested, failed and deleted into kb.document.* events and deliveries', async () => {
    const created = await call('POST', '/v1/subscriptions', {
      url: 'http://127.0.0.1:9/hooks',
      types: ['kb.document.*'],
    });
    expect(created.status).toBe(201);
    const sub = (await created.json()) as { id: string };

    const ingested = await engine.runtime.callAction('acme', 'kb.ingest', {
      text: '# Refunds\n\nRefunds are paid within five days.',
      key: 'refunds',
    });
    expect(ingested.ok).toBe(true);
    const documentId = (ingested as { output: { documentId: string } }).output.documentId;
    // A new version that cannot be read: the document stays ready, with the failure beside it.
    const broken = await engine.runtime.callAction('acme', 'kb.ingest', {
      data: Buffer.from([0x68, 0xc3, 0x28, 0xff]).toString('base64'),
      name: 'refunds.txt',
      key: 'refunds',
    });
    expect(broken.ok).toBe(false);
    expect((await call('DELETE', `/v1/kb/documents/${documentId}`)).status).toBe(204);

    const events = await poll(async () => {
      const list = await kbEvents();
      return list.length >= 3 ? list : undefined;
    });
    expect(events.map((e) => [e.type, e.entity.type, e.entity.id, e.entity.seq])).toEqual([
      ['kb.document.ready', 'kb_document', documentId, 1],
      ['kb.document.failed', 'kb_document', documentId, 2],
      ['kb.document.deleted', 'kb_document', documentId, 3],
    ]);
    expect(events[0]!.data).toMatchObject({ id: documentId, source: 'refunds', title: 'Refunds', chunks: 1 });
    expect(events[1]!.data).toMatchObject({ status: 'ready', error: { reason: 'invalid_utf8' } });
    // Chunks are no events; each document event is one delivery to the subscription.
    const jobs = await database
      .db('jobs')
      .where({ actor: `feed:${sub.id}` })
      .orderBy('created_at');
    expect(jobs.map((j) => j.payload.type).sort()).toEqual([
      'kb.document.deleted',
      'kb.document.failed',
      'kb.document.ready',
    ]);
  });
});
