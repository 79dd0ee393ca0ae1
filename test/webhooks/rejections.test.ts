/**
 * Refused deliveries cannot fill the append-only audit log: they are counted in the metrics,
 * aggregated per route, reason and minute in `webhook_rejections` (pruned after 30 days), and
 * a source that keeps failing on a route gets 429 until the minute is over.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneWebhookRejections } from '../../engine/webhooks/index.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { poll } from '../helpers/poll.ts';
import { post, startWebhookEngine, type WebhookEngine } from './harness.ts';

const database = useTestDatabase();
let atlas: WebhookEngine;

beforeAll(async () => {
  atlas = await startWebhookEngine(database);
  await atlas.tenant('demo', {
    workflows: ['WF-021'],
    secrets: { STRIPE_WEBHOOK_SECRET: 'whsec_demoDemoDemoDemo0123456789abcdef' },
  });
});
afterAll(async () => {
  await atlas?.close();
});

const json = { 'content-type': 'application/json' };
const body = JSON.stringify({ id: 'evt_forged', type: 'payment_intent.succeeded' });

/** A POST from another loopback address: another source. */
function postFrom(localAddress: string, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: json, localAddress }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Aggregate {
  route_id: string;
  reason: string;
  status: number;
  n: string;
}
const rows = async (): Promise<Aggregate[]> =>
  (await atlas
    .db('webhook_rejections')
    .select('route_id', 'reason', 'status')
    .sum('count as n')
    .groupBy(1, 2, 3)) as unknown as Aggregate[];

describe('150 unsigned Stripe deliveries from one source', () => {
  it('add no audit row, are aggregated per route, reason and minute, and get 429 past the limit', async () => {
    const url = `${atlas.url}/v1/webhooks/stripe?tenantId=demo`;
    const statuses: number[] = [];
    for (let i = 0; i < 150; i += 1) {
      const res = await post(url, body, json);
      statuses.push(res.status);
      if (i === 149) {
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(((await res.json()) as { reason: string }).reason).toBe('rate_limited');
      } else await res.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 400)).toHaveLength(100);
    expect(statuses.filter((s) => s === 429)).toHaveLength(50);
    expect(statuses.slice(100).every((s) => s === 429)).toBe(true);

    const audit = await atlas.db('audit_log').where({ action: 'webhook.reject' });
    expect(audit).toEqual([]);
    expect(await atlas.db('audit_log').where({ tenant_id: 'demo' })).toEqual([]);

    const aggregated = await poll(async () => {
      const found = await rows();
      const total = found.reduce((sum, r) => sum + Number(r.n), 0);
      return total === 150 ? found : undefined;
    });
    expect(aggregated.map((r) => ({ ...r, n: Number(r.n) })).sort((a, b) => a.status - b.status)).toEqual([
      { route_id: 'stripe', reason: 'header_missing', status: 400, n: 100 },
      { route_id: 'stripe', reason: 'rate_limited', status: 429, n: 50 },
    ]);
    // One row per route, reason and minute, however many requests.
    expect(Number((await atlas.db('webhook_rejections').count('* as n'))[0]!.n)).toBeLessThanOrEqual(4);

    const metrics = await (await fetch(`${atlas.url}/metrics`)).text();
    expect(metrics).toMatch(
      /atlas_webhook_rejections_total\{route="stripe",reason="header_missing",status="400"\} 100/,
    );
    expect(metrics).toMatch(
      /atlas_webhook_rejections_total\{route="stripe",reason="rate_limited",status="429"\} 50/,
    );
  });

  it('limits per source and route: another route, or another source, is still answered', async () => {
    const telegram = await post(`${atlas.url}/v1/telegram/webhook?tenantId=demo`, body, json);
    expect(telegram.status).toBe(401);
    expect(await postFrom('127.0.0.2', `${atlas.url}/v1/webhooks/stripe?tenantId=demo`)).toBe(400);
    expect(await postFrom('127.0.0.1', `${atlas.url}/v1/webhooks/stripe?tenantId=demo`)).toBe(429);
  });

  it('prunes aggregated rejections older than 30 days', async () => {
    const total = async () => (await rows()).reduce((sum, r) => sum + Number(r.n), 0);
    await poll(async () => ((await total()) === 153 ? true : undefined));
    expect(await pruneWebhookRejections(atlas.db, new Date(Date.now() + 29 * DAY))).toBe(0);
    expect(await pruneWebhookRejections(atlas.db, new Date(Date.now() + 31 * DAY))).toBeGreaterThan(0);
    expect(await atlas.db('webhook_rejections')).toEqual([]);
  });
});

const DAY = 86_400_000;
