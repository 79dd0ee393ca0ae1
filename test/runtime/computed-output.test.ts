/**
 * Computed values (`$expr`) and the run output (`output:`), end to end: the shipped WF-007
 * against the fake Telegram, the output in `GET /v1/runs/:id`, `now` from the run's
 * recorded trigger time, and an output that cannot be built failing its run with the reason.
 */
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../engine/auth/mint.ts';
import { formatRun } from '../../engine/cli/run.ts';
import type { FakeServer } from '../fakes/server.ts';
import { BOT_TOKEN, startTelegram, telegramParams } from '../fakes/telegram.ts';
import { ROOT } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';

const SECRET = 'computed-output-test-secret-0123456789';

const EXTRA = {
  'WF-950.yaml': `apiVersion: atlas/v1
kind: Workflow
id: WF-950
trigger: { type: manual }
input:
  type: object
  properties:
    n: { type: integer }
    word: { type: string }
steps:
  - id: calc
    uses: core.set
    with:
      value:
        double: { $expr: { "*": [{ var: input.n }, 2] } }
        at: { $expr: { now: [] } }
  - id: shout
    uses: core.log
    with:
      message: { $expr: { upper: [{ var: input.word }] } }
output:
  double: "{{ steps.calc.output.double }}"
  word: { $expr: { upper: [{ var: input.word }] } }
`,
  'WF-951.yaml': `apiVersion: atlas/v1
kind: Workflow
id: WF-951
trigger: { type: manual }
steps:
  - id: maybe
    uses: core.set
    if: false
    with: { value: { x: 1 } }
output: { x: "{{ steps.maybe.output.x }}" }
`,
  'WF-952.yaml': `apiVersion: atlas/v1
kind: Workflow
id: WF-952
trigger: { type: manual }
concurrency: { limit: 1 }
steps:
  - id: one
    uses: core.set
    with: { value: [3, 4] }
output: { sum: { $expr: { sum: [{ var: steps.one.output }] } }, at: { $expr: { now: [] } } }
`,
};

describe('computed values and run outputs', () => {
  const database = useTestDatabase();
  let engine: TestEngine;
  let telegram: FakeServer;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    telegram = await startTelegram(BOT_TOKEN);
    const fs = await import('node:fs/promises');
    const os = await import('node:os');
    const extra = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-expr-'));
    for (const [name, text] of Object.entries(EXTRA)) await fs.writeFile(path.join(extra, name), text);
    engine = await startTestEngine(database, {
      dirs: [path.join(ROOT, 'manifests'), extra],
      env: {
        ATLAS_OUTBOUND_ALLOWLIST: '127.0.0.1',
        ATLAS_CONNECTOR_TELEGRAM_BASE_URL: telegram.url,
        ATLAS_JWT_SECRET: SECRET,
      },
      http: true,
    });
    await engine.services.secrets.put('acme', 'TELEGRAM_BOT_TOKEN', BOT_TOKEN);
    await database.db('tenant_workflows').insert({
      tenant_id: 'acme',
      workflow_id: 'WF-007',
      enabled: true,
      config: JSON.stringify({ chatId: '-100200300' }),
    });
    await engine.startWorker();
    const app = engine.engine.app!;
    server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await engine?.stop();
    await telegram?.close();
  });

  const order = {
    orderId: 'A-1001',
    email: 'Ada@Example.COM',
    timeZone: 'Pacific/Auckland',
    lines: [
      { sku: 'PEN', qty: 3, unitPrice: 2.5 },
      { sku: 'INK', qty: 2, unitPrice: 10 },
    ],
  };

  it('runs WF-007: computed totals and dates, a Telegram summary, and the run output', async () => {
    const run = await engine.runToEnd('WF-007', order);
    expect(run.status).toBe('succeeded');
    const totals = run.steps[0]!.attempts[0]!;
    // `now` is the run's recorded trigger time, not the clock at the moment of rendering.
    const triggeredAt = (run.trigger as { at: string }).at;
    const dueAt = new Date(Date.parse(triggeredAt) + 14 * 86_400_000).toISOString();
    const dueDate = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Pacific/Auckland',
      day: 'numeric',
      month: 'long',
      year: 'numeric',
    }).format(new Date(dueAt));
    expect(totals.output).toEqual({
      total: 27.5,
      units: 5,
      skus: 'PEN, INK',
      email: 'ada@example.com',
      dueAt,
      dueDate,
    });
    const sent = await telegramParams(telegram.requests.at(-1)!);
    expect(sent).toEqual({
      chat_id: '-100200300',
      text: `Order A-1001 from ada@example.com: 5 units (PEN, INK), 27.5 EUR due ${dueDate}`,
    });
    const messageId = (run.steps[1]!.attempts[0]!.output as { message_id: number }).message_id;
    expect(run.output).toEqual({ orderId: 'A-1001', total: 27.5, dueAt, notified: true, messageId });

    const token = await mintToken({ secret: SECRET, sub: 'alice', tenants: ['acme'], ttlSeconds: 300 });
    const res = await fetch(`${url}/v1/runs/${run.id}`, {
      headers: { authorization: `Bearer ${token}`, 'x-tenant-id': 'acme' },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { output: unknown }).output).toEqual(run.output);
  });

  it('skips the message for an empty order, and the output says so', async () => {
    const run = await engine.runToEnd('WF-007', { ...order, lines: [{ sku: 'FREE', qty: 1, unitPrice: 0 }] });
    expect(run.status).toBe('succeeded');
    expect(run.steps.map((s) => s.status)).toEqual(['succeeded', 'skipped']);
    expect(run.output).toMatchObject({ total: 0, notified: false, messageId: null });
  });

  it('fails a step whose $expr cannot compute, with the operation in the reason', async () => {
    const run = await engine.runToEnd('WF-950', { n: 2 });
    expect(run.status).toBe('failed');
    expect(run.steps.map((s) => s.status)).toEqual(['succeeded', 'failed']);
    expect(run.error).toMatchObject({ step: 'shout', code: 'invalid_input' });
    expect((run.error as { message: string }).message).toContain('upper needs a string, got null');
    expect(run.output).toBeNull();
  });

  it('computes step inputs and the output with the same scope', async () => {
    const run = await engine.runToEnd('WF-950', { n: 21, word: 'ok' });
    expect(run.status).toBe('succeeded');
    expect(run.steps[1]!.attempts[0]!.input).toEqual({ message: 'OK' });
    expect(run.steps[0]!.attempts[0]!.output).toEqual({
      double: 42,
      at: (run.trigger as { at: string }).at,
    });
    expect(run.output).toEqual({ double: 42, word: 'OK' });
  });

  it('fails a run whose output cannot be built, saying why', async () => {
    const run = await engine.runToEnd('WF-951');
    expect(run.status).toBe('failed');
    expect(run.steps.map((s) => s.status)).toEqual(['skipped']);
    expect(run.error).toMatchObject({ code: 'invalid_output', kind: 'fatal' });
    expect((run.error as { message: string }).message).toContain('because step "maybe" was skipped');
    expect(run.output).toBeNull();
  });

  it('writes the output of a run that ends in a transaction (concurrency group), with now = the trigger time', async () => {
    const run = await engine.runToEnd('WF-952');
    expect(run.status).toBe('succeeded');
    expect(run.output).toEqual({ sum: 7, at: (run.trigger as { at: string }).at });
    expect(formatRun(run).split('\n').at(-1)).toBe(`  output: ${JSON.stringify(run.output)}`);
  });
});
