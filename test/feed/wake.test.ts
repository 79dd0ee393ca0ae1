/**
 * `GET /v1/events` streams are woken by NOTIFY when their tenant's events are recorded (one
 * LISTEN connection per process), instead of reading the database twice a second; a listener
 * connection killed under them is opened again, and the streams poll until it is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { poll } from '../helpers/poll.ts';
import { type FeedApi, startFeedApi } from './harness.ts';

const SECRET = 'feed-wake-test-jwt-secret-0123456789abcdef';

describe('change feed streams woken by notifications', () => {
  const database = useTestDatabase();
  let api: FeedApi | undefined;
  let base: string;
  let token: string;

  beforeAll(async () => {
    api = await startFeedApi(database, { secret: SECRET, tenant: 'acme', tenants: ['acme'] });
    ({ base, token } = api);
  });

  afterAll(async () => {
    await api?.stop();
  });

  /** An open stream: the ids of the events it delivered, and when each arrived. */
  async function openStream() {
    const controller = new AbortController();
    const res = await fetch(`${base}/v1/events?after=latest`, {
      headers: { authorization: `Bearer ${token}`, 'x-tenant-id': 'acme', accept: 'text/event-stream' },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const arrived = new Map<string, number>();
    const reading = (async () => {
      const decoder = new TextDecoder();
      let text = '';
      try {
        for await (const chunk of res.body!) {
          text += decoder.decode(chunk as Uint8Array, { stream: true });
          for (const m of text.matchAll(/"entity":\{"type":"run","id":"([^"]+)"/g)) {
            if (!arrived.has(m[1]!)) arrived.set(m[1]!, Date.now());
          }
        }
      } catch {
        // aborted
      }
    })();
    return {
      arrived,
      async close() {
        controller.abort();
        await reading;
      },
    };
  }

  /** Records an event as the feed does, and resolves how long it took to reach the stream. */
  async function latencyOf(stream: Awaited<ReturnType<typeof openStream>>, id: string): Promise<number> {
    await database.db.raw(
      `insert into feed_events (tenant_id, type, entity_type, entity_id, entity_seq, data, occurred_at)
       values ('acme', 'run.queued', 'run', ?, 1, '{}', now())`,
      [id],
    );
    const committed = Date.now();
    const at = await poll(async () => stream.arrived.get(id), 5000);
    return at - committed;
  }

  /**
   * `n` events at uneven intervals, each delivered within 200 ms of its commit: a stream that
   * polled twice a second would be late for most of them.
   */
  async function expectWoken(stream: Awaited<ReturnType<typeof openStream>>, prefix: string, n: number) {
    const latencies: number[] = [];
    for (let i = 0; i < n; i++) {
      latencies.push(await latencyOf(stream, `${prefix}-${i}`));
      await new Promise((r) => setTimeout(r, 50 + 97 * i));
    }
    expect(Math.max(...latencies), `latencies ${latencies.join(', ')} ms`).toBeLessThan(200);
  }

  const listener = async (): Promise<number | undefined> => {
    const { rows } = await database.db.raw<{ rows: Array<{ pid: number }> }>(
      `select pid from pg_stat_activity where application_name = 'atlas-feed-wake' and datname = current_database()`,
    );
    return rows[0]?.pid;
  };

  it('delivers each new event well under the old half-second poll', async () => {
    const stream = await openStream();
    try {
      await new Promise((r) => setTimeout(r, 300)); // the stream's first read is done
      await expectWoken(stream, 'wake', 5);
    } finally {
      await stream.close();
    }
  });

  it('listens again after its connection is killed, and streams keep receiving meanwhile', async () => {
    const stream = await openStream();
    try {
      const before = await poll(listener, 5000);
      await database.db.raw('select pg_terminate_backend(?)', [before]);
      // Lost: the stream polls, and still receives.
      expect(await latencyOf(stream, 'during')).toBeLessThan(3000);
      const after = await poll(async () => {
        const pid = await listener();
        return pid !== undefined && pid !== before ? pid : undefined;
      }, 10_000);
      expect(after).not.toBe(before);
      // Back: woken again (the probe that proves delivery takes a moment).
      const latency = await poll(async () => {
        const ms = await latencyOf(stream, `back-${Date.now()}`);
        return ms < 200 ? ms : undefined;
      }, 10_000);
      expect(latency).toBeLessThan(200);
      await expectWoken(stream, 'again', 3);
    } finally {
      await stream.close();
    }
  });
});
