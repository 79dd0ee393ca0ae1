/**
 * The promise of the secrets store, checked end to end: secrets written through the API and
 * used by a workflow's steps against local fakes leave no plaintext in any table of the
 * database (every column of every row, as text) nor in any line the engine logged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeServer, json, startFake } from '../fakes/server.ts';
import { startTelegram } from '../fakes/telegram.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { type ApiEngine, startApiEngine } from './engine.ts';

// Values with no credential shape, so only the engine's knowledge of them can hide them.
const SECRETS = {
  PARTNER_KEY: 'Pl41nT3xt-partner-Sentinel-5f1e',
  HOOK_TOKEN: 'Pl41nT3xt-hook-Sentinel-77ab',
  TELEGRAM_BOT_TOKEN: '5550001112:Pl41nT3xtBotSentinel_abcdefghijklmnopqrs',
  WEBHOOK_SECRET: `whsec_${Buffer.from('Pl41nT3xt-signing-Sentinel-0c3d').toString('base64')}`,
};
/** What must never appear: each value, and the part of each that is not shape (the sentinel). */
const NEEDLES = [...Object.values(SECRETS), 'Sentinel'];

const workflow = (partnerUrl: string, hookUrl: string) => `apiVersion: atlas/v1
kind: Workflow
id: WF-950
trigger: { type: manual }
steps:
  - id: partner
    uses: http.request
    with:
      method: POST
      url: ${partnerUrl}/orders
      headers: { x-partner-key: "{{ secrets.PARTNER_KEY }}" }
      json: { note: "signed with {{ secrets.PARTNER_KEY }}" }
  - id: notify
    uses: telegram.sendMessage
    with: { chat_id: 42, text: "order placed" }
  - id: register
    uses: telegram.setWebhook
    with: { url: "https://hooks.example.com/telegram", secret_token: HOOK_TOKEN }
  - id: deliver
    uses: webhook.send
    with: { url: ${hookUrl}/events, type: order.placed, data: { id: 7 }, secret: WEBHOOK_SECRET }
`;

/** Every table of every schema but the catalogs', including graphile_worker's. */
async function tablesHolding(api: ApiEngine, needle: string): Promise<string[]> {
  const db = api.engine.db;
  const { rows: tables } = await db.raw<{ rows: Array<{ schema: string; name: string }> }>(`
    select table_schema as schema, table_name as name from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`);
  const found: string[] = [];
  for (const { schema, name } of tables) {
    const { rows } = await db.raw<{ rows: Array<{ n: number }> }>(
      `select count(*)::int as n from ??.?? t where strpos(t::text, ?) > 0`,
      [schema, name, needle],
    );
    if ((rows[0]?.n ?? 0) > 0) found.push(`${schema}.${name}`);
  }
  return found;
}

describe('no plaintext secret in any table or log line', () => {
  const database = useTestDatabase();
  let api: ApiEngine;
  let partner: FakeServer;
  let telegram: FakeServer;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    // The partner echoes what it received, as many APIs do: the output holds the secret.
    partner = await startFake((req) => json(200, { echo: req.json(), key: req.header('x-partner-key') }));
    telegram = await startTelegram(SECRETS.TELEGRAM_BOT_TOKEN);
    receiver = await startWebhookReceiver(SECRETS.WEBHOOK_SECRET);
    api = await startApiEngine(database, {
      manifests: { 'wf.yaml': workflow(partner.url, receiver.url) },
      env: { ATLAS_CONNECTOR_TELEGRAM_BASE_URL: telegram.url, ATLAS_OUTBOUND_ALLOWLIST: '127.0.0.1' },
    });
  });
  afterAll(async () => {
    await api?.stop();
    await Promise.all([partner?.close(), telegram?.close(), receiver?.close()]);
  });

  it('stores, uses and then hides every secret', async () => {
    for (const [name, value] of Object.entries(SECRETS)) {
      expect((await api.call('PUT', `/v1/secrets/${name}`, { body: { value } })).status).toBe(201);
    }
    const started = await api.call('POST', '/v1/workflows/WF-950/runs', { body: { input: {} } });
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: string };
    const run = await api.engine.services.runtime.runtime.waitForRun('acme', id, 20_000);
    expect(run?.status).toBe('succeeded');

    // The secrets did their work: each provider received its value.
    expect(partner.requests[0]!.header('x-partner-key')).toBe(SECRETS.PARTNER_KEY);
    expect(telegram.requests.map((r) => r.path)).toEqual([
      `/bot${SECRETS.TELEGRAM_BOT_TOKEN}/sendMessage`,
      `/bot${SECRETS.TELEGRAM_BOT_TOKEN}/setWebhook`,
    ]);
    expect(telegram.requests[1]!.json()).toMatchObject({ secret_token: SECRETS.HOOK_TOKEN });
    expect(receiver.verified).toEqual([expect.objectContaining({ type: 'order.placed' })]);

    // The echoed value was scrubbed from the step's output, not dropped with it.
    expect(run?.steps[0]?.attempts[0]?.output).toMatchObject({
      status: 200,
      body: { key: '[REDACTED]', echo: { note: 'signed with [REDACTED]' } },
    });

    // Nothing the API shows of the run holds one.
    const detail = await (await api.call('GET', `/v1/runs/${id}`)).text();
    for (const needle of NEEDLES) expect(detail).not.toContain(needle);

    for (const needle of NEEDLES) expect(await tablesHolding(api, needle)).toEqual([]);
    expect(api.logs.length).toBeGreaterThan(0);
    for (const needle of NEEDLES) expect(api.logs.filter((line) => line.includes(needle))).toEqual([]);
  });

  it('would find a plaintext value if one were stored (the scan can fail)', async () => {
    await api.engine.db('tenants').where({ id: 'globex' }).update({ name: SECRETS.PARTNER_KEY });
    expect(await tablesHolding(api, SECRETS.PARTNER_KEY)).toEqual(['public.tenants']);
    await api.engine.db('tenants').where({ id: 'globex' }).update({ name: 'globex' });
  });
});
