/**
 * The imported benchmark flow behind its generated WebhookRoute, through the real HTTP
 * server: a signed POST is accepted with n8n's answer and starts the imported workflow with
 * the request body as `trigger.body`; an unsigned one is refused.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importN8n } from '../../engine/import/n8n/index.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { freshEventId, post, ROOT, startWebhookEngine, type WebhookEngine } from '../webhooks/harness.ts';

const KEY = `whsec_${Buffer.from('n8n-benchmark-signing-key-32byte').toString('base64')}`;

describe('an imported n8n webhook flow', () => {
  const database = useTestDatabase();
  let atlas: WebhookEngine;
  let dir: string;
  let workflowId: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-n8n-hook-'));
    const result = await importN8n({
      paths: [path.join(ROOT, 'test/fixtures/n8n/benchmark-webhook-set-if-noop.json')],
      idFrom: 600,
      catalogue: [path.join(ROOT, 'manifests')],
    });
    workflowId = result.report.workflows[0]!.id!;
    for (const file of result.files) {
      await fs.mkdir(path.dirname(path.join(dir, file.name)), { recursive: true });
      await fs.writeFile(path.join(dir, file.name), file.text);
    }
    atlas = await startWebhookEngine(database, {
      ATLAS_MANIFESTS: `${path.join(ROOT, 'manifests')}:${dir}`,
    });
    await atlas.tenant('acme', { workflows: [workflowId], secrets: { N8N_BENCHMARK_SECRET: KEY } });
  });
  afterAll(async () => {
    await atlas?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const send = (body: string, signed = true) => {
    const id = freshEventId('msg_');
    const at = new Date();
    return post(`${atlas.url}/v1/webhooks/n8n/benchmark?tenantId=acme`, body, {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signed ? new Webhook(KEY).sign(id, at, body) : 'v1,AAAA',
    });
  };

  it("accepts a signed delivery with n8n's answer and starts the workflow with its body", async () => {
    const response = await send(JSON.stringify({ customer: 'acme', amount: 250 }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ message: 'Workflow was started' });
    const runs = await atlas.db('workflow_runs').where({ tenant_id: 'acme', workflow_id: workflowId });
    expect(runs).toHaveLength(1);
    expect(runs[0].trigger).toMatchObject({
      type: 'webhook',
      route: 'n8n-benchmark',
      body: { customer: 'acme', amount: 250 },
    });
  });

  it('refuses a delivery whose signature does not verify', async () => {
    const response = await send(JSON.stringify({ customer: 'mallory', amount: 1 }), false);
    expect(response.status).toBe(401);
    const runs = await atlas.db('workflow_runs').where({ tenant_id: 'acme', workflow_id: workflowId });
    expect(runs).toHaveLength(1);
  });
});
