/**
 * Default-on workflows (`enabled: default`) run without a `tenant_workflows` row: a schedule,
 * a webhook and an event start them for every active tenant that did not turn them off and
 * has what they need; a tenant that lacks a secret, an integration or config is skipped with
 * the reason, kept in `workflow_skips` and shown by `GET /v1/workflows`. Opt-in workflows
 * still need the row. Ids of four digits (users' own, WF-100 and up) are valid.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fireSchedule } from '../../engine/runtime/cron.ts';
import { useTestDatabase } from '../helpers/db.ts';
import {
  apiCall,
  freshEventId,
  post,
  ROOT,
  readFixture,
  signedStripe,
  startWebhookEngine,
  type WebhookEngine,
} from '../webhooks/harness.ts';

const database = useTestDatabase();
let atlas: WebhookEngine;
let dir: string;
const SECRET = 'whsec_defaultsDefaultsDefaults0123456789';

const MANIFESTS: Record<string, string> = {
  'WF-1001.yaml': `apiVersion: atlas/v1
kind: Workflow
id: WF-1001
name: Default schedule
enabled: default
trigger: { type: schedule, cron: "0 9 * * *" }
steps:
  - id: post
    uses: http.request
    with: { url: "{{ secrets.REPORT_URL }}" }
`,
  'WF-1002.yaml': `apiVersion: atlas/v1
kind: Workflow
id: WF-1002
name: Default on payments
enabled: default
trigger: { type: webhook, route: stripe, events: [payment_intent.succeeded] }
config:
  type: object
  properties: { label: { type: string } }
steps:
  - id: note
    uses: core.log
    with: { message: "paid {{ trigger.body.data.object.id }} {{ secrets.LEDGER_TOKEN }}" }
`,
  'WF-1003.yaml': `apiVersion: atlas/v1
kind: Workflow
id: WF-1003
name: Opt-in on payments
trigger: { type: webhook, route: stripe, events: [payment_intent.succeeded] }
steps:
  - id: note
    uses: core.log
    with: { message: "opt-in" }
`,
  'WF-1004.yaml': `apiVersion: atlas/v1
kind: Workflow
id: WF-1004
name: Needs Drive and config
enabled: default
trigger: { type: event, workflow: WF-1005 }
config:
  type: object
  required: [folderId]
  properties: { folderId: { type: string } }
steps:
  - id: list
    uses: google.drive.listFiles
    with: { q: "'{{ tenant.config.folderId }}' in parents" }
`,
  'WF-1005.yaml': `apiVersion: atlas/v1
kind: Workflow
id: WF-1005
name: Source of events
trigger: { type: manual }
steps:
  - id: hello
    uses: core.log
    with: { message: "hello" }
`,
};

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-defaults-'));
  for (const [name, text] of Object.entries(MANIFESTS)) await fs.writeFile(path.join(dir, name), text);
  atlas = await startWebhookEngine(database, {
    ATLAS_MANIFESTS: `${path.join(ROOT, 'manifests', 'webhooks')}:${dir}`,
  });
  await atlas.tenant('ready', {
    secrets: { STRIPE_WEBHOOK_SECRET: SECRET, REPORT_URL: 'http://127.0.0.1:9/r', LEDGER_TOKEN: 'x1' },
  });
  await atlas.tenant('lacking', { secrets: { STRIPE_WEBHOOK_SECRET: SECRET } });
  await atlas.tenant('off', {
    secrets: { STRIPE_WEBHOOK_SECRET: SECRET, REPORT_URL: 'http://127.0.0.1:9/r', LEDGER_TOKEN: 'x2' },
  });
  await atlas.db('tenant_workflows').insert([
    { tenant_id: 'off', workflow_id: 'WF-1001', enabled: false },
    { tenant_id: 'off', workflow_id: 'WF-1002', enabled: false },
  ]);
  await atlas.tenant('gone', { secrets: { REPORT_URL: 'http://127.0.0.1:9/r' } });
  await atlas.db('tenants').where({ id: 'gone' }).update({ status: 'disabled' });
});
afterAll(async () => {
  await atlas?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

const runsOf = async (workflowId: string) =>
  (await atlas.db('workflow_runs').where({ workflow_id: workflowId }).select('tenant_id'))
    .map((r: { tenant_id: string }) => r.tenant_id)
    .sort();

describe('enabled: default', () => {
  it('a schedule starts it for every active tenant that has what it needs and did not turn it off', async () => {
    const core = {
      deps: { catalogue: atlas.engine.services.catalogue, db: atlas.db, log: { info() {} } },
      dispatcher: { poke() {} },
      gate: atlas.engine.services.runtime.gate,
    };
    const payload = { workflowId: 'WF-1001', _cron: { ts: '2026-11-29T09:00:00.000Z' } };
    expect(await fireSchedule(core as never, payload)).toBe(1);
    expect(await runsOf('WF-1001')).toEqual(['ready']);
    const skips = await atlas.db('workflow_skips').where({ workflow_id: 'WF-1001' });
    expect(skips.map((s) => [s.tenant_id, s.reason, s.trigger])).toEqual([
      ['lacking', 'tenant secret REPORT_URL is not set', 'schedule'],
    ]);
    // The same fire again starts nothing more, and counts the skip again.
    expect(await fireSchedule(core as never, payload)).toBe(0);
    const [again] = await atlas.db('workflow_skips').where({ workflow_id: 'WF-1001' });
    expect(Number(again.count)).toBe(2);
  });

  it('a webhook starts it without a row, skips a tenant that lacks a secret with the reason, and leaves opt-in alone', async () => {
    const event = await readFixture('payment_intent.succeeded.json');
    const send = (tenant: string) => {
      const d = signedStripe({ ...event, id: freshEventId() }, SECRET);
      return post(`${atlas.url}/v1/webhooks/stripe?tenantId=${tenant}`, d.body, d.headers);
    };
    const ready = await send('ready');
    expect(ready.status).toBe(200);
    expect(ready.headers.get('atlas-webhook-note')).toBeNull();
    expect(await runsOf('WF-1002')).toEqual(['ready']);
    expect(await runsOf('WF-1003')).toEqual([]);

    const lacking = await send('lacking');
    expect(lacking.status).toBe(200);
    expect(lacking.headers.get('atlas-webhook-note')).toBe(
      'accepted, no run: WF-1002 is skipped for tenant lacking: tenant secret LEDGER_TOKEN is not set',
    );
    const off = await send('off');
    expect(off.headers.get('atlas-webhook-note')).toBe(
      'accepted, no run: WF-1002, WF-1003 are not enabled for tenant off',
    );
    expect(await runsOf('WF-1002')).toEqual(['ready']);
    const [skip] = await atlas.db('workflow_skips').where({ tenant_id: 'lacking', workflow_id: 'WF-1002' });
    expect(skip).toMatchObject({ reason: 'tenant secret LEDGER_TOKEN is not set', trigger: 'webhook' });
  });

  it('reports the integration and config a tenant lacks for a default-on workflow', async () => {
    const statuses = await atlas.engine.services.runtime.runtime.workflowStatuses('ready');
    expect(statuses.get('WF-1004')).toMatchObject({
      enabled: true,
      byDefault: true,
      chosen: false,
      requirements: 'integrations google; config folderId',
      missing: 'integration google is not connected; config folderId is not set',
    });
  });

  it('GET /v1/workflows shows who enabled it, what it needs and why this tenant is skipped', async () => {
    const res = await apiCall(atlas.url, 'GET', '/v1/workflows', { tenant: 'lacking' });
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: Array<Record<string, unknown>> };
    const byId = new Map(items.map((i) => [i.id, i]));
    expect(byId.get('WF-1001')).toMatchObject({
      enabled: true,
      enabledBy: 'default',
      requirements: 'secrets REPORT_URL',
      skipped: 'tenant secret REPORT_URL is not set',
      lastSkip: { reason: 'tenant secret REPORT_URL is not set', trigger: 'schedule', count: 2 },
    });
    expect(byId.get('WF-1003')).toMatchObject({ enabled: false, enabledBy: 'tenant', requirements: 'none' });
    expect(byId.get('WF-1003')).not.toHaveProperty('skipped');

    const off = await apiCall(atlas.url, 'GET', '/v1/workflows/WF-1001', { tenant: 'off' });
    expect(await off.json()).toMatchObject({ id: 'WF-1001', enabled: false, enabledBy: 'tenant' });
    const ready = await apiCall(atlas.url, 'GET', '/v1/workflows/WF-1001', { tenant: 'ready' });
    const body = (await ready.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ enabled: true, enabledBy: 'default' });
    expect(body).not.toHaveProperty('skipped');
  });
});
