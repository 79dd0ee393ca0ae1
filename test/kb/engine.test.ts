/**
 * End to end: the engine as `atlas serve` runs it (HTTP API and worker) on this file's
 * database. `KB_INGEST` jobs through `POST /v1/jobs`, the `/v1/kb` routes, embeddings from
 * an OpenAI-compatible fake, documents served by a local fake web server, and the shipped
 * `assistant` agent answering from a chunk it found with `kb.search`.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../engine/auth/mint.ts';
import { withTenant } from '../../engine/db/rls.ts';
import { type RunningEngine, startEngine } from '../../engine/engine.ts';
import { silentLogger } from '../../engine/log.ts';
import {
  answer,
  CHAT_KEY,
  type ChatFake,
  callTools,
  startChatCompletions,
} from '../fakes/chat-completions.ts';
import { type FakeReply, type FakeServer, json, startFake } from '../fakes/server.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { servingConfig } from '../helpers/engine.ts';
import { makeDocx, makePdf } from './fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const JWT_SECRET = 'atlas-kb-test-secret-0123456789abcdef';
const database = useTestDatabase();

let home: string;
let chat: ChatFake;
let web: FakeServer;
let engine: RunningEngine;
let tokens: Record<string, string>;
let embeddingsReply: ((n: number) => FakeReply | undefined) | undefined;

const REFUNDS = `# Refund policy

Customers may ask for a refund within 14 days of purchase. Refunds are paid back to the original card within five working days.

# Shipping

Parcels leave the warehouse in Lyon every weekday at 16:00.`;

beforeAll(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-kb-'));
  await fs.mkdir(path.join(home, 'manifests'));
  await fs.copyFile(
    path.join(ROOT, 'manifests/agents/assistant.yaml'),
    path.join(home, 'manifests/assistant.yaml'),
  );
  chat = await startChatCompletions({ script: [], embeddingsReply: (n) => embeddingsReply?.(n) });
  web = await startFake((req) => {
    if (req.path === '/pricing.html')
      return {
        status: 200,
        headers: { 'content-type': 'text/html; charset=utf-8' },
        body: '<html><head><title>Pricing</title><script>track()</script></head><body><h1>Pricing</h1><p>The Pro plan costs 20 EUR per seat.</p></body></html>',
      };
    if (req.path === '/moved') return { status: 302, headers: { location: '/pricing.html' } };
    if (req.path === '/internal') return { status: 302, headers: { location: 'http://10.0.0.1/admin' } };
    if (req.path === '/huge')
      return { status: 200, headers: { 'content-type': 'text/plain' }, streamBytes: 3 * 1024 * 1024 };
    return json(404, { error: 'not found' });
  });
  const config = servingConfig(database.url, home, JWT_SECRET, {
    ATLAS_CONNECTOR_OPENAI_BASE_URL: chat.url,
    OPENAI_API_KEY: CHAT_KEY,
    ATLAS_PLATFORM_CREDENTIALS: 'agent,openai',
    // The fake web server is on loopback, which the SSRF guard refuses unless allowed.
    ATLAS_WEBHOOK_ALLOWLIST: '127.0.0.1',
    ATLAS_KB_MAX_BYTES: '1mb',
    ATLAS_BODY_LIMIT: '2mb',
  });
  engine = await startEngine({ config, log: silentLogger, http: true, worker: true });
  const withEmbeddings = {
    llm: { tokensPerDay: 1_000_000 },
    kb: { embeddings: { model: 'text-embedding-3-small' } },
  };
  await database.db('tenants').insert([
    { id: 'acme', name: 'Acme', settings: withEmbeddings },
    { id: 'globex', name: 'Globex', settings: {} },
  ]);
  tokens = {};
  for (const tenant of ['acme', 'globex'])
    tokens[tenant] = await mintToken({
      secret: JWT_SECRET,
      sub: `ops@${tenant}`,
      tenants: [tenant],
      ttlSeconds: 600,
    });
});

afterAll(async () => {
  await engine?.stop();
  await Promise.all([chat?.close(), web?.close()]);
  await fs.rm(home, { recursive: true, force: true });
});

async function api(tenant: string, method: string, url: string, body?: unknown): Promise<Response> {
  return fetch(`${engine.url}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${tokens[tenant]}`,
      'x-tenant-id': tenant,
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

interface Job {
  id: string;
  status: string;
  result: Record<string, unknown> | null;
  lastError: { code: string; message: string } | null;
  steps: Array<{ id: string; status: string; output: unknown; error: unknown }>;
}

async function finished(tenant: string, location: string, timeoutMs = 20_000): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await (await api(tenant, 'GET', location)).json()) as Job;
    if (['succeeded', 'failed', 'cancelled'].includes(job.status) || Date.now() > deadline) return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function ingest(tenant: string, payload: Record<string, unknown>): Promise<Job> {
  const res = await api(tenant, 'POST', '/v1/jobs', { type: 'KB_INGEST', payload });
  expect(res.status).toBe(202);
  return finished(tenant, res.headers.get('location')!);
}

interface SearchResult {
  mode: string;
  results: Array<{
    rank: number;
    score: number;
    chunkId: string;
    text: string;
    document: { id: string; title: string };
  }>;
}

async function search(tenant: string, body: Record<string, unknown>): Promise<SearchResult> {
  const res = await api(tenant, 'POST', '/v1/kb/search', body);
  expect(res.status).toBe(200);
  return (await res.json()) as SearchResult;
}

describe('KB_INGEST and search, full text only (no embeddings model)', () => {
  let documentId: string;

  it('ingests Markdown, splits it at headings, and finds the right chunk', async () => {
    const job = await ingest('globex', {
      text: REFUNDS,
      key: 'policies/refunds.md',
      metadata: { team: 'support' },
    });
    expect(job).toMatchObject({
      status: 'succeeded',
      result: { status: 'created', title: 'Refund policy', chunks: 2, embedded: false },
    });
    documentId = job.result!['documentId'] as string;

    const found = await search('globex', { query: 'How long do refunds take to reach my card?' });
    expect(found.mode).toBe('text'); // hybrid falls back without an embeddings model
    expect(found.results[0]).toMatchObject({
      rank: 1,
      text: expect.stringContaining('within five working days'),
      document: { id: documentId, title: 'Refund policy' },
    });
    const shipping = await search('globex', { query: 'warehouse parcels', mode: 'text', k: 1 });
    expect(shipping.results.map((r) => r.text)).toEqual([expect.stringMatching(/^# Shipping/)]);
    expect((await search('globex', { query: 'refund', filter: { team: 'sales' } })).results).toEqual([]);
    expect((await search('globex', { query: 'refund', filter: { team: 'support' } })).results).toHaveLength(
      1,
    );
  });

  it('lists the document and shows it with its chunks', async () => {
    const list = (await (await api('globex', 'GET', '/v1/kb/documents')).json()) as { items: unknown[] };
    expect(list.items).toEqual([
      expect.objectContaining({
        id: documentId,
        source: { type: 'text', key: 'policies/refunds.md' },
        status: 'ready',
        chunks: 2,
        embedding: null,
        metadata: { team: 'support' },
      }),
    ]);
    const doc = (await (await api('globex', 'GET', `/v1/kb/documents/${documentId}`)).json()) as {
      chunkList: Array<{ ordinal: number; text: string; embedded: boolean; metadata: unknown }>;
    };
    expect(doc.chunkList.map((c) => [c.ordinal, c.embedded, c.metadata])).toEqual([
      [0, false, { heading: 'Refund policy' }],
      [1, false, { heading: 'Shipping' }],
    ]);
  });

  it('re-ingesting the same content is a no-op; changed content replaces the chunks', async () => {
    const before = await database.db('kb_chunks').where({ document_id: documentId }).pluck('id');
    const again = await ingest('globex', {
      text: REFUNDS,
      key: 'policies/refunds.md',
      metadata: { team: 'support' },
    });
    expect(again.result).toMatchObject({ status: 'unchanged', documentId });
    expect(await database.db('kb_chunks').where({ document_id: documentId }).pluck('id')).toEqual(before);

    const changed = REFUNDS.replace('14 days', '30 days');
    const updated = await ingest('globex', {
      text: changed,
      key: 'policies/refunds.md',
      metadata: { team: 'support' },
    });
    expect(updated.result).toMatchObject({ status: 'updated', documentId, chunks: 2 });
    const texts = await database
      .db('kb_chunks')
      .where({ document_id: documentId })
      .orderBy('ordinal')
      .pluck('text');
    expect(texts[0]).toContain('30 days');
    expect(await database.db('kb_chunks').where({ document_id: documentId }).count({ n: '*' })).toEqual([
      { n: 2 },
    ]);
  });

  it('ingests a file the tenant stored, by its id, and finds its text', async () => {
    const stored = await engine.services.files.upload('globex', 'ada', {
      name: 'returns.md',
      body: [
        Buffer.from('# Returns\n\nUnopened boxes may be returned to the depot in Lyon within 30 days.\n'),
      ],
    });
    const job = await ingest('globex', { fileId: stored.id });
    expect(job).toMatchObject({ status: 'succeeded', result: { status: 'created', title: 'Returns' } });
    const found = await search('globex', { query: 'depot Lyon', mode: 'text', k: 1 });
    expect(found.results[0]).toMatchObject({ text: expect.stringContaining('depot in Lyon') });
    // Another tenant's file is not found, whatever its id.
    const foreign = await ingest('acme', { fileId: stored.id });
    expect([foreign.status, foreign.lastError?.code]).toEqual(['failed', 'file_not_found']);
  });

  it('deletes a document and its chunks', async () => {
    const job = await ingest('globex', { text: 'Temporary note about badges.' });
    const id = job.result!['documentId'] as string;
    expect((await api('globex', 'DELETE', `/v1/kb/documents/${id}`)).status).toBe(204);
    const audited = await database
      .db('audit_log')
      .where({ tenant_id: 'globex', action: 'kb.documents.delete' });
    expect(audited.map((a) => [a.entity_id, a.status])).toEqual([[id, 204]]);
    expect((await api('globex', 'GET', `/v1/kb/documents/${id}`)).status).toBe(404);
    expect((await api('globex', 'DELETE', `/v1/kb/documents/${id}`)).status).toBe(404);
    expect((await search('globex', { query: 'badges' })).results).toEqual([]);
  });
});

describe('with an embeddings model', () => {
  it('is set in the tenant’s admin-only settings, checked against their schema', async () => {
    const admin = await mintToken({
      secret: JWT_SECRET,
      sub: 'operator',
      tenants: [],
      admin: true,
      ttlSeconds: 600,
    });
    const put = (settings: unknown) =>
      fetch(`${engine.url}/v1/tenants/acme/settings`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(settings),
      });
    const bad = await put({ kb: { embeddings: { model: 'text-embedding-3-small', dimensions: 0 } } });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { detail: string }).detail).toMatch(/dimensions/);
    const good = await put({
      llm: { tokensPerDay: 1_000_000 },
      kb: { embeddings: { model: 'text-embedding-3-small' } },
    });
    expect(good.status).toBe(200);
  });

  it('embeds chunks in batches at 512 dimensions and searches by vector and hybrid', async () => {
    const sent = chat.embeddings.length;
    const job = await ingest('acme', { text: REFUNDS, key: 'refunds' });
    expect(job.result).toMatchObject({ status: 'created', chunks: 2, embedded: true });
    expect(chat.embeddings.slice(sent)).toEqual([
      expect.objectContaining({
        model: 'text-embedding-3-small',
        dimensions: 512,
        encoding_format: 'float',
        input: [expect.any(String), expect.any(String)],
      }),
    ]);
    const dims = await database.db.raw(
      `select cardinality(embedding) as n from kb_chunks where tenant_id = 'acme'`,
    );
    expect(dims.rows).toEqual([{ n: 512 }, { n: 512 }]);

    const vector = await search('acme', { query: 'warehouse weekday parcels', mode: 'vector', k: 2 });
    expect(vector.mode).toBe('vector');
    expect(vector.results[0]!.text).toMatch(/^# Shipping/);
    expect(vector.results[0]!.score).toBeGreaterThan(vector.results[1]!.score);
    const hybrid = await search('acme', { query: 'refund card' });
    expect(hybrid.mode).toBe('hybrid');
    expect(hybrid.results.map((r) => r.rank)).toEqual([1, 2]);
    expect(hybrid.results[0]!.text).toContain('refund');
    // Both rankings agree on the first chunk: 1/61 + 1/61.
    expect(hybrid.results[0]!.score).toBeCloseTo(2 / 61, 5);
  });

  it('an embeddings provider failing halfway leaves the previous version searchable', async () => {
    const sections = (word: string) =>
      Array.from({ length: 70 }, (_, i) => `# Section ${i}\n\n${word} paragraph number ${i}.`).join('\n\n');
    const first = await ingest('acme', { text: sections('original'), key: 'handbook' });
    expect(first.result).toMatchObject({ status: 'created', chunks: 70, embedded: true });

    const base = chat.embeddings.length;
    embeddingsReply = (n) =>
      n === base + 2
        ? json(400, {
            error: {
              message: 'This model is overloaded.',
              type: 'invalid_request_error',
              param: null,
              code: null,
            },
          })
        : undefined;
    try {
      const failed = await ingest('acme', { text: sections('rewritten'), key: 'handbook' });
      expect(failed).toMatchObject({ status: 'failed', lastError: { code: 'provider_rejected' } });
      expect(chat.embeddings.length - base).toBe(2); // the first batch of 64 went through, the second failed
    } finally {
      embeddingsReply = undefined;
    }
    const found = await search('acme', { query: 'original paragraph number 7', mode: 'text', k: 1 });
    expect(found.results[0]!.text).toContain('original paragraph number 7');
    expect((await search('acme', { query: 'rewritten', mode: 'text' })).results).toEqual([]);
    const doc = await database
      .db('kb_documents')
      .where({ tenant_id: 'acme', source_key: 'handbook' })
      .first();
    expect(doc).toMatchObject({ status: 'ready', chunk_count: 70, error: { reason: 'provider_rejected' } });
  });

  it('hybrid search falls back to text ranking, saying so, when the embeddings provider fails', async () => {
    await ingest('acme', { text: REFUNDS, key: 'refunds' });
    embeddingsReply = () =>
      json(503, { error: { message: 'Overloaded.', type: 'server_error', param: null, code: null } });
    try {
      const res = await api('acme', 'POST', '/v1/kb/search', { query: 'warehouse parcels', k: 1 });
      expect(res.status).toBe(200);
      const body = (await res.json()) as SearchResult & { degraded?: string };
      expect(body).toMatchObject({ mode: 'text', degraded: 'embeddings_unavailable' });
      expect(body.results[0]!.text).toMatch(/^# Shipping/);
      // Vector search alone has nothing to fall back to: it still fails, as a gateway error.
      const vector = await api('acme', 'POST', '/v1/kb/search', { query: 'parcels', mode: 'vector' });
      expect([502, 503]).toContain(vector.status);
    } finally {
      embeddingsReply = undefined;
    }
    const healthy = (await search('acme', { query: 'warehouse parcels', k: 1 })) as SearchResult & {
      degraded?: string;
    };
    expect(healthy.mode).toBe('hybrid');
    expect(healthy.degraded).toBeUndefined();
  });

  it('ingests PDF and DOCX bytes and finds their text', async () => {
    const pdf = makePdf([['Travel policy', 'Trains are booked in second class for trips under four hours.']]);
    const docx = makeDocx(['# Onboarding', 'New staff receive a laptop and a badge on their first morning.']);
    const a = await ingest('acme', { data: Buffer.from(pdf).toString('base64'), name: 'travel.pdf' });
    const b = await ingest('acme', { data: Buffer.from(docx).toString('base64'), name: 'onboarding.docx' });
    expect([a.status, b.status]).toEqual(['succeeded', 'succeeded']);
    expect((await search('acme', { query: 'train class', k: 1 })).results[0]!.text).toContain('second class');
    expect((await search('acme', { query: 'laptop first morning', k: 1 })).results[0]).toMatchObject({
      document: { title: 'Onboarding' },
    });
  });
});

describe('URLs through the hub', () => {
  it('fetches a page, following a redirect, without its scripts', async () => {
    const job = await ingest('acme', { url: `${web.url}/moved` });
    expect(job.result).toMatchObject({ status: 'created', title: 'Pricing', chunks: 1 });
    const doc = await database.db('kb_chunks').where({ document_id: job.result!['documentId'] }).first();
    expect(doc.text).toBe('# Pricing\n\nThe Pro plan costs 20 EUR per seat.');
  });

  it('refuses a redirect to a private address, and a document over the size limit', async () => {
    const internal = await ingest('acme', { url: `${web.url}/internal` });
    expect(internal).toMatchObject({ status: 'failed', lastError: { code: 'ssrf_blocked' } });
    const huge = await ingest('acme', { url: `${web.url}/huge` });
    expect(huge).toMatchObject({ status: 'failed', lastError: { code: 'too_large' } });
    expect(huge.lastError!.message).toMatch(/at most 1048576 are accepted/);
    const failed = (await (await api('acme', 'GET', '/v1/kb/documents?status=failed')).json()) as {
      items: Array<{ source: { key: string }; error: { reason: string } }>;
    };
    expect(failed.items.map((d) => [d.source.key.replace(web.url, ''), d.error.reason]).sort()).toEqual([
      ['/huge', 'too_large'],
      ['/internal', 'ssrf_blocked'],
    ]);
  });
});

describe('bad documents', () => {
  it('fails each with its reason, and the worker goes on', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ data: Buffer.from([0x68, 0xc3, 0x28, 0xff]).toString('base64'), name: 'bad.txt' }, 'invalid_utf8'],
      [
        {
          data: Buffer.from(
            makeDocx(['x'], { 'word/media/z.bin': new Uint8Array(20 * 1024 * 1024) }),
          ).toString('base64'),
          name: 'bomb.docx',
        },
        'too_large',
      ],
      [
        { data: Buffer.from(makePdf([['x']], { copies: 5_000 })).toString('base64'), name: 'big.pdf' },
        'too_many_pages',
      ],
      [{ data: Buffer.from(makePdf([[]])).toString('base64'), name: 'scan.pdf' }, 'no_text'],
      [{ text: '   ', name: 'blank.md' }, 'empty'],
      [{ fileId: '0190a5d2-7c1e-7000-8000-000000000000' }, 'file_not_found'],
    ];
    for (const [payload, code] of cases) {
      const job = await ingest('acme', payload);
      expect([job.status, job.lastError?.code]).toEqual(['failed', code]);
    }
    const ok = await ingest('acme', { text: 'Still working after all that.' });
    expect(ok.status).toBe('succeeded');
  });
});

describe('tenant isolation', () => {
  it('never returns another tenant’s chunks, even to a query without a tenant filter', async () => {
    // acme has a shipping chunk; globex searches for its words.
    const results = (await search('globex', { query: 'Pro plan seat pricing', k: 50 })).results;
    expect(results).toEqual([]);
    const seen = await withTenant(database.db, 'globex', (trx) =>
      trx('kb_chunks').distinct('tenant_id').pluck('tenant_id'),
    );
    expect(seen).toEqual(['globex']);
    const acmeDoc = await database.db('kb_documents').where({ tenant_id: 'acme' }).first('id');
    expect((await api('globex', 'GET', `/v1/kb/documents/${acmeDoc.id}`)).status).toBe(404);
    expect((await api('globex', 'DELETE', `/v1/kb/documents/${acmeDoc.id}`)).status).toBe(404);
  });
});

describe('the assistant agent', () => {
  it('calls kb.search and answers with the chunk’s content', async () => {
    chat.enqueue(
      callTools({ id: 'call_kb', name: 'kb__search', arguments: { query: 'refund card days', k: 3 } }),
      answer((req) => {
        const tool = req.messages.find((m) => m.role === 'tool' && m.tool_call_id === 'call_kb');
        // Tool results reach the model wrapped as untrusted data.
        const found = (JSON.parse(tool?.content ?? '{}') as { untrusted_data: SearchResult }).untrusted_data;
        const best = found.results[0]!;
        return `From "${best.document.title}": ${best.text.split('\n\n')[1]}`;
      }),
    );
    const res = await api('acme', 'POST', '/v1/agents/assistant/run', { task: 'How long do refunds take?' });
    expect(res.status).toBe(202);
    const job = await finished('acme', res.headers.get('location')!);
    expect(job.status).toBe('succeeded');
    expect(job.result!['answer']).toBe(
      'From "Refund policy": Customers may ask for a refund within 14 days of purchase. Refunds are paid back to the original card within five working days.',
    );
    expect(job.steps.map((s) => s.id)).toEqual(['AGENT_TASK', 'model#1', 'tool#1 kb.search', 'model#2']);
    const offered = chat.requests.at(-2)!.tools!.map((t) => t.function.name);
    expect(offered).toEqual(['kb__search']);
  });
});
