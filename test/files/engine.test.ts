/**
 * The whole engine as `atlas serve` runs it (HTTP API and worker in one process): a tenant
 * uploads a PDF as a form, lists it, fetches it through a signed URL without a token, hits
 * its quota, and a workflow sends the file to a Telegram chat (fake) by its id.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../engine/auth/mint.ts';
import { generateKey } from '../../engine/crypto/index.ts';
import { type RunningEngine, startEngine } from '../../engine/engine.ts';
import { makeLogger } from '../../engine/log.ts';
import type { FakeServer } from '../fakes/server.ts';
import { BOT_TOKEN, startTelegram } from '../fakes/telegram.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { servingConfig } from '../helpers/engine.ts';
import { pdfBytes } from './harness.ts';

const SECRET = 'atlas-files-engine-tests-0123456789abcdef';
const t = useTestDatabase();
let home: string;
let engine: RunningEngine;
let telegram: FakeServer;
let headers: Record<string, string>;

beforeAll(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-files-engine-'));
  await fs.mkdir(path.join(home, 'manifests'));
  await fs.writeFile(
    path.join(home, 'manifests', 'WF-950.yaml'),
    `apiVersion: atlas/v1
kind: Workflow
id: WF-950
trigger: { type: manual }
input: { type: object, required: [fileId], properties: { fileId: { type: string } } }
steps:
  - id: send
    uses: telegram.sendDocument
    with: { chat_id: 42, document: { atlas_file_id: "{{ input.fileId }}" } }
    retry: { maxAttempts: 1 }
`,
  );
  telegram = await startTelegram(BOT_TOKEN);
  const config = servingConfig(t.url, home, SECRET, {
    ATLAS_ENCRYPTION_KEY: generateKey(),
    ATLAS_CONNECTOR_TELEGRAM_BASE_URL: telegram.url,
    TELEGRAM_BOT_TOKEN: BOT_TOKEN,
    ATLAS_PLATFORM_CREDENTIALS: 'telegram',
    ATLAS_WORKER_CONCURRENCY: '2',
  });
  engine = await startEngine({ config, log: makeLogger('silent', false), http: true, worker: true });
  // The platform's bot may write to the chat the operator assigned to acme.
  await engine
    .db('tenants')
    .insert({ id: 'acme', name: 'Acme', settings: JSON.stringify({ telegram: { chats: [42] } }) });
  const token = await mintToken({ secret: SECRET, sub: 'ada', tenants: ['acme'], ttlSeconds: 600 });
  headers = { authorization: `Bearer ${token}`, 'x-tenant-id': 'acme' };
});

afterAll(async () => {
  await engine?.stop();
  await telegram?.close();
  await fs.rm(home, { recursive: true, force: true });
});

describe('files in the running engine', () => {
  it('uploads, lists, links, enforces the quota and sends a file to Telegram by its id', async () => {
    const form = new FormData();
    form.set('file', new Blob([pdfBytes('q3')], { type: 'application/pdf' }), 'q3-report.pdf');
    const created = await fetch(`${engine.url}/v1/files`, { method: 'POST', headers, body: form });
    expect(created.status).toBe(201);
    const file = (await created.json()) as { id: string };

    const list = (await (await fetch(`${engine.url}/v1/files`, { headers })).json()) as {
      items: Array<{ id: string }>;
      usage: { files: number };
    };
    expect(list.items.map((f) => f.id)).toEqual([file.id]);
    expect(list.usage.files).toBe(1);

    const link = (await (await fetch(`${engine.url}/v1/files/${file.id}/url`, { headers })).json()) as {
      url: string;
    };
    // PORT=0 picks the port after ATLAS_PUBLIC_URL's default is made: join the path to the real one.
    const signed = new URL(link.url);
    const download = await fetch(`${engine.url}${signed.pathname}${signed.search}`);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(pdfBytes('q3'))).toBe(true);

    await engine
      .db('tenants')
      .where({ id: 'acme' })
      .update({ settings: { telegram: { chats: [42] }, files: { maxFiles: 1 } } });
    const over = await fetch(`${engine.url}/v1/files?name=more.pdf`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/pdf' },
      body: pdfBytes('more'),
    });
    expect(over.status).toBe(409);
    expect(await over.json()).toMatchObject({ reason: 'quota_exceeded', usage: { files: 1 } });

    const started = await fetch(`${engine.url}/v1/workflows/WF-950/runs`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ input: { fileId: file.id } }),
    });
    expect(started.status).toBe(202);
    const { id: runId } = (await started.json()) as { id: string };
    const run = await engine.services.runtime.runtime.waitForRun('acme', runId, 20_000);
    expect(run?.status, JSON.stringify(run?.error)).toBe('succeeded');
    const call = telegram.requests.find((r) => r.path.endsWith('/sendDocument'))!;
    const sent = await new Response(call.body, {
      headers: { 'content-type': call.header('content-type')! },
    }).formData();
    expect((sent.get('document') as File).name).toBe('q3-report.pdf');
  });
});
