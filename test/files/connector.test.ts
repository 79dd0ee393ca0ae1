/**
 * The files connector and actions that send a file by its id, run as workflow steps by the
 * whole engine (queue, runtime, hub) with the engine's own file service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputOf, tokenSource } from '../connectors/in-workflow.ts';
import { GOOGLE_TOKEN, type GoogleFake, startGoogle } from '../fakes/google.ts';
import { type GraphFake, MS, startGraph } from '../fakes/msgraph.ts';
import { RESEND_KEY, type ResendFake, startResend } from '../fakes/resend.ts';
import { type FakeServer, startFake } from '../fakes/server.ts';
import { BOT_TOKEN, startTelegram, telegramParams } from '../fakes/telegram.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { manualWorkflow } from '../helpers/manifests.ts';
import { pdfBytes } from './harness.ts';

const manifests = {
  'WF-901.yaml': manualWorkflow(
    'WF-901',
    `  - id: put
    uses: files.put
    with: { name: notes.txt, text: "{{ input.text }}" }
  - id: get
    uses: files.get
    with: { id: "{{ steps.put.output.id }}" }
  - id: b64
    uses: files.get
    with: { id: "{{ steps.put.output.id }}", as: base64 }
  - id: link
    uses: files.url
    with: { id: "{{ steps.put.output.id }}", ttl: 5m }
  - id: list
    uses: files.list
    with: { prefix: notes }
`,
  ),
  'WF-902.yaml': manualWorkflow(
    'WF-902',
    `  - id: call
    uses: telegram.sendDocument
    with: { chat_id: 42, caption: "your invoice", document: { atlas_file_id: "{{ input.fileId }}" } }
    retry: { maxAttempts: 1 }
`,
  ),
  'WF-903.yaml': manualWorkflow(
    'WF-903',
    `  - id: call
    uses: files.put
    with: { name: "{{ input.name }}", url: "{{ input.url }}", maxBytes: 100000 }
    retry: { maxAttempts: 1 }
`,
  ),
  'WF-904.yaml': manualWorkflow(
    'WF-904',
    `  - id: call
    uses: files.get
    with: { id: "{{ input.fileId }}" }
    retry: { maxAttempts: 1 }
`,
  ),
  'WF-905.yaml': manualWorkflow(
    'WF-905',
    `  - id: call
    uses: files.delete
    with: { id: "{{ input.fileId }}" }
    retry: { maxAttempts: 1 }
`,
  ),
  'WF-906.yaml': manualWorkflow(
    'WF-906',
    `  - id: call
    uses: email.send
    with:
      to: [ada@example.com]
      subject: Your invoice
      text: Attached.
      provider: "{{ input.provider }}"
      attachments: [{ atlas_file_id: "{{ input.fileId }}" }]
    retry: { maxAttempts: 1 }
`,
  ),
  'WF-907.yaml': manualWorkflow(
    'WF-907',
    `  - id: call
    uses: google.drive.uploadFile
    with: { atlas_file_id: "{{ input.fileId }}", parents: [folder-1] }
    retry: { maxAttempts: 1 }
`,
  ),
};

describe('files in workflows', () => {
  const database = useTestDatabase();
  let engine: TestEngine;
  let telegram: FakeServer;
  let origin: FakeServer;
  let graph: GraphFake;
  let resend: ResendFake;
  let google: GoogleFake;

  beforeAll(async () => {
    telegram = await startTelegram(BOT_TOKEN);
    graph = await startGraph();
    resend = await startResend();
    google = await startGoogle();
    origin = await startFake((req) =>
      req.path === '/invoice.pdf'
        ? { status: 200, headers: { 'content-type': 'application/pdf' }, body: pdfBytes('remote') }
        : { status: 200, headers: { 'content-type': 'application/octet-stream' }, streamBytes: 500_000 },
    );
    engine = await startTestEngine(database, {
      manifests,
      tenants: ['acme', 'globex'],
      tokens: tokenSource({ acme: { google: GOOGLE_TOKEN } }),
      env: {
        ATLAS_CONNECTOR_GOOGLE_BASE_URL: google.url,
        ATLAS_OUTBOUND_ALLOWLIST: '127.0.0.1',
        ATLAS_CONNECTOR_TELEGRAM_BASE_URL: telegram.url,
        TELEGRAM_BOT_TOKEN: BOT_TOKEN,
        // The platform's bot, Graph app and Resend key, offered to tenants for these tests.
        ATLAS_PLATFORM_CREDENTIALS: 'telegram,msgraph,email',
        ATLAS_CONNECTOR_MSGRAPH_BASE_URL: `${graph.url}/v1.0`,
        ATLAS_CONNECTOR_MSGRAPH_LOGIN_URL: graph.url,
        MS_TENANT_ID: MS.tenant,
        MS_CLIENT_ID: MS.clientId,
        MS_CLIENT_SECRET: MS.clientSecret,
        MS_MAIL_SENDER: 'noreply@contoso.com',
        ATLAS_CONNECTOR_EMAIL_BASE_URL: resend.url,
        RESEND_API_KEY: RESEND_KEY,
        RESEND_FROM: 'Atlas <noreply@atlas.dev>',
      },
    });
    // What the operator assigned to acme on those platform credentials.
    await database
      .db('tenants')
      .where({ id: 'acme' })
      .update({
        settings: JSON.stringify({
          mailboxes: ['noreply@contoso.com', 'noreply@atlas.dev'],
          telegram: { chats: [42] },
        }),
      });
    await engine.startWorker(4);
  });

  afterAll(async () => {
    await engine?.stop();
    await Promise.all([telegram?.close(), origin?.close(), graph?.close(), resend?.close(), google?.close()]);
  });

  it('puts, reads, links and lists a file', async () => {
    const run = await engine.runToEnd('WF-901', { text: 'héllo files' });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    const out = Object.fromEntries(run.steps.map((s) => [s.id, s.attempts.at(-1)?.output])) as Record<
      string,
      Record<string, unknown>
    >;
    expect(out.put).toMatchObject({
      name: 'notes.txt',
      size: Buffer.byteLength('héllo files'),
      createdBy: `run:${run.id}`,
    });
    expect(out.get).toMatchObject({ text: 'héllo files', contentType: 'text/plain; charset=utf-8' });
    expect(out.b64).toMatchObject({ base64: Buffer.from('héllo files').toString('base64') });
    expect(String(out.link!.url)).toContain(`/v1/files/${out.put!.id}/content?expires=`);
    expect(out.list!.items).toEqual([expect.objectContaining({ id: out.put!.id })]);
  });

  it("sends one of the tenant's files to a Telegram chat by its id", async () => {
    const stored = await engine.services.files.upload('acme', 'ada', {
      name: 'invoice-7.pdf',
      body: [pdfBytes('invoice 7')],
    });
    const run = await engine.runToEnd('WF-902', { fileId: stored.id });
    expect(outputOf(run)).toMatchObject({ chat_id: 42, file_id: 'BQACAgIAAxkBAAIB' });
    const call = telegram.requests.find((r) => r.path.endsWith('/sendDocument'))!;
    const form = await new Response(call.body, {
      headers: { 'content-type': call.header('content-type')! },
    }).formData();
    const doc = form.get('document') as File;
    expect(doc.name).toBe('invoice-7.pdf');
    expect(doc.type).toBe('application/pdf');
    expect(Buffer.from(await doc.arrayBuffer()).equals(pdfBytes('invoice 7'))).toBe(true);
    expect(await telegramParams(call)).toMatchObject({ chat_id: '42', caption: 'your invoice' });
  });

  it('attaches a stored file to an email, through Graph and through Resend', async () => {
    const stored = await engine.services.files.upload('acme', 'ada', {
      name: 'invoice-8.pdf',
      body: [pdfBytes('invoice 8')],
    });
    const base64 = pdfBytes('invoice 8').toString('base64');
    const viaGraph = await engine.runToEnd('WF-906', { fileId: stored.id, provider: 'msgraph' });
    expect(outputOf(viaGraph)).toMatchObject({ provider: 'msgraph' });
    expect(graph.sent.at(-1)!.payload).toMatchObject({
      message: {
        attachments: [
          {
            '@odata.type': '#microsoft.graph.fileAttachment',
            name: 'invoice-8.pdf',
            contentType: 'application/pdf',
            contentBytes: base64,
          },
        ],
      },
    });
    const viaResend = await engine.runToEnd('WF-906', { fileId: stored.id, provider: 'resend' });
    expect(outputOf(viaResend)).toMatchObject({ provider: 'resend' });
    expect(resend.emails.at(-1)).toMatchObject({
      attachments: [{ filename: 'invoice-8.pdf', content: base64, content_type: 'application/pdf' }],
    });
  });

  it('uploads a stored file to Google Drive by its id, with its name and type', async () => {
    const stored = await engine.services.files.upload('acme', 'ada', {
      name: 'minutes.txt',
      contentType: 'text/plain',
      body: [Buffer.from('minutes of the meeting')],
    });
    const run = await engine.runToEnd('WF-907', { fileId: stored.id });
    expect(outputOf(run)).toMatchObject({ id: 'file2', name: 'minutes.txt' });
    expect(google.uploads.at(-1)).toMatchObject({
      metadata: { name: 'minutes.txt', mimeType: 'text/plain', parents: ['folder-1'] },
      content: 'minutes of the meeting',
      contentType: 'text/plain',
    });
  });

  it('fetches a URL into a file through the hub, within its size limit', async () => {
    const ok = await engine.runToEnd('WF-903', { name: 'remote.pdf', url: `${origin.url}/invoice.pdf` });
    expect(outputOf(ok)).toMatchObject({ name: 'remote.pdf', contentType: 'application/pdf' });
    const audit = await database.db('audit_log').where({ connector: 'files', action: 'connector.call' });
    expect(audit.map((a) => a.path)).toContain('/invoice.pdf');

    const big = await engine.runToEnd('WF-903', { name: 'big.bin', url: `${origin.url}/huge` });
    expect(big.status).toBe('failed');
    expect(big.error).toMatchObject({ code: 'file_too_large' });
    expect(await database.db('files').where({ name: 'big.bin' })).toEqual([]);

    // The SSRF guard refuses private targets before any connection (the metadata service here).
    const metadata = await engine.runToEnd('WF-903', {
      name: 'creds.json',
      url: 'http://169.254.169.254/latest/meta-data/',
    });
    expect(metadata.status).toBe('failed');
    expect(metadata.error).toMatchObject({ code: 'ssrf_blocked' });
  });

  it("cannot read or delete another tenant's file", async () => {
    const theirs = await engine.services.files.upload('globex', 'eve', {
      name: 'secret.txt',
      contentType: 'text/plain',
      body: [Buffer.from('globex only')],
    });
    for (const wf of ['WF-904', 'WF-905']) {
      const run = await engine.runToEnd(wf, { fileId: theirs.id }, 'acme');
      expect(run.status).toBe('failed');
      expect(run.error).toMatchObject({ code: 'file_not_found', kind: 'fatal' });
    }
    expect((await engine.services.files.get('globex', theirs.id)).name).toBe('secret.txt');
    const mine = await engine.runToEnd('WF-905', { fileId: theirs.id }, 'globex');
    expect(outputOf(mine)).toEqual({ deleted: true });
  });
});
