import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { problemOf } from '../http/harness.ts';
import { type FilesApi, pdfBytes, startFilesApi, upload } from './harness.ts';

const t = useTestDatabase();
let api: FilesApi;
let acme: string;
let other: string;

beforeAll(async () => {
  await t.db('tenants').insert([
    { id: 'acme', name: 'Acme' },
    { id: 'globex', name: 'Globex' },
    { id: 'quota', name: 'Quota' },
    { id: 'full', name: 'Full' },
  ]);
  api = await startFilesApi(t.db);
  acme = await api.token({ tenants: ['acme'], sub: 'ada' });
  other = await api.token({ tenants: ['globex'], sub: 'eve' });
});

afterAll(async () => {
  await api?.close();
});

interface FileJson {
  id: string;
  name: string;
  size: number;
  sha256: string;
  contentType: string;
}
interface ListJson {
  items: FileJson[];
  nextCursor?: string;
  usage: { files: number; bytes: number };
  limits: Record<string, number>;
}
const fileOf = async (res: Response | Promise<Response>) => (await (await res).json()) as FileJson;
const listOf = async (res: Response | Promise<Response>) => (await (await res).json()) as ListJson;

const auth = (token: string, tenant: string) => ({ authorization: `Bearer ${token}`, 'x-tenant-id': tenant });

describe('POST /v1/files', () => {
  it('stores a multipart upload, lists it, and reports usage and limits', async () => {
    const pdf = pdfBytes('report');
    const form = new FormData();
    form.set('file', new Blob([pdf], { type: 'application/pdf' }), 'report.pdf');
    const res = await fetch(`${api.url}/v1/files`, {
      method: 'POST',
      headers: auth(acme, 'acme'),
      body: form,
    });
    expect(res.status).toBe(201);
    const file = (await res.json()) as {
      id: string;
      name: string;
      size: number;
      sha256: string;
      contentType: string;
    };
    expect(file).toMatchObject({
      name: 'report.pdf',
      size: pdf.length,
      contentType: 'application/pdf',
      createdBy: 'ada',
    });
    expect(file.sha256).toBe(createHash('sha256').update(pdf).digest('hex'));
    expect(res.headers.get('location')).toBe(`/v1/files/${file.id}`);

    const list = await listOf(api.call('GET', '/v1/files', { token: acme, tenant: 'acme' }));
    expect(list.items.map((f: { id: string }) => f.id)).toContain(file.id);
    expect(list.usage.files).toBeGreaterThanOrEqual(1);
    expect(list.limits).toEqual({
      maxFiles: 500,
      maxStorageBytes: 500 * 1024 * 1024,
      maxFileBytes: 100 * 1024 * 1024,
    });

    const meta = await api.call('GET', `/v1/files/${file.id}`, { token: acme, tenant: 'acme' });
    expect(await fileOf(meta)).toMatchObject({ id: file.id, name: 'report.pdf' });
    // The object sits under tenants/<tenant>/<id>.
    const stored = await fs.readFile(path.join(api.home, 'files', 'tenants', 'acme', file.id));
    expect(stored.equals(pdf)).toBe(true);
    const audit = await t.db('audit_log').where({ action: 'files.put', entity_id: file.id }).first();
    expect(audit).toMatchObject({ tenant_id: 'acme', actor: 'ada', result: 'ok', status: 201 });
  });

  it('takes a raw body with ?name=, filters by prefix and pages with a cursor', async () => {
    for (const name of ['inv-1.txt', 'inv-2.txt', 'inv-3.txt', 'memo.txt']) {
      expect(
        (await upload(api, acme, 'acme', name, Buffer.from(`text of ${name}`), 'text/plain')).status,
      ).toBe(201);
    }
    const page1 = await listOf(
      api.call('GET', '/v1/files?prefix=inv-&limit=2', { token: acme, tenant: 'acme' }),
    );
    expect(page1.items.map((f) => f.name)).toEqual(['inv-3.txt', 'inv-2.txt']);
    const page2 = await listOf(
      api.call('GET', `/v1/files?prefix=inv-&limit=2&cursor=${page1.nextCursor}`, {
        token: acme,
        tenant: 'acme',
      }),
    );
    expect(page2.items.map((f) => f.name)).toEqual(['inv-1.txt']);
    const wild = await listOf(api.call('GET', '/v1/files?prefix=%25', { token: acme, tenant: 'acme' }));
    expect(wild.items).toEqual([]);
  });

  it('refuses bad names, empty bodies and content types the bytes contradict', async () => {
    for (const name of [
      '../etc/passwd',
      'a/b.txt',
      'a\\b.txt',
      '..',
      'bad\u0000name',
      'tab\tname',
      'x'.repeat(256),
    ]) {
      const res = await upload(api, acme, 'acme', name, Buffer.from('x'));
      expect(res.status, name).toBe(400);
      expect((await problemOf(res)).detail).toMatch(/name/);
    }
    const empty = await upload(api, acme, 'acme', 'empty.txt', Buffer.alloc(0));
    expect(empty.status).toBe(400);
    const chunkedEmpty = await fetch(`${api.url}/v1/files?name=e.txt`, {
      method: 'POST',
      headers: { ...auth(acme, 'acme'), 'content-type': 'text/plain' },
      body: new ReadableStream({ start: (c) => c.close() }),
      duplex: 'half',
    } as RequestInit);
    expect(chunkedEmpty.status).toBe(400);
    expect((await problemOf(chunkedEmpty)).detail).toBe('The file is empty.');
    const fakePdf = await upload(
      api,
      acme,
      'acme',
      'x.pdf',
      Buffer.from('<html><script>alert(1)</script>'),
      'application/pdf',
    );
    expect(fakePdf.status).toBe(415);
    const pngAsPdf = await upload(
      api,
      acme,
      'acme',
      'x.pdf',
      Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex'),
      'application/pdf',
    );
    expect(pngAsPdf.status).toBe(415);
    expect((await problemOf(pngAsPdf)).detail).toContain('image/png');
    const sniffed = await upload(api, acme, 'acme', 'no-type.pdf', pdfBytes());
    expect((await fileOf(sniffed)).contentType).toBe('application/pdf');
    const noFile = new FormData();
    noFile.set('note', 'no file here');
    const res = await fetch(`${api.url}/v1/files`, {
      method: 'POST',
      headers: auth(acme, 'acme'),
      body: noFile,
    });
    expect(res.status).toBe(400);
    expect(await t.db('files').where({ tenant_id: 'acme', name: 'x.pdf' })).toEqual([]);
  });
});

describe('signed URLs', () => {
  it('serve the bytes without a token, with ranges, and refuse expired, altered or borrowed signatures', async () => {
    const a = await fileOf(upload(api, acme, 'acme', 'a.pdf', pdfBytes('aaaa')));
    const b = await fileOf(upload(api, acme, 'acme', 'b.pdf', pdfBytes('bbbb')));
    const res = await api.call('GET', `/v1/files/${a.id}/url?ttl=10m`, { token: acme, tenant: 'acme' });
    const { url, expiresAt } = (await res.json()) as { url: string; expiresAt: string };
    expect(new Date(expiresAt).getTime() - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(url).toMatch(/\/v1\/files\/[0-9a-f-]{36}\/content\?expires=\d+&signature=/);

    const download = await fetch(url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/pdf');
    expect(download.headers.get('x-content-type-options')).toBe('nosniff');
    expect(download.headers.get('content-disposition')).toContain('filename="a.pdf"');
    expect(Buffer.from(await download.arrayBuffer()).equals(pdfBytes('aaaa'))).toBe(true);

    const head = await fetch(url, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length'), await head.text()]).toEqual([
      200,
      String(a.size),
      '',
    ]);

    const part = await fetch(url, { headers: { range: 'bytes=0-4' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 0-4/${a.size}`);
    expect(await part.text()).toBe('%PDF-');
    const tail = await fetch(url, { headers: { range: 'bytes=-6' } });
    expect(await tail.text()).toBe('%%EOF\n');
    expect((await fetch(url, { headers: { range: `bytes=${a.size}-` } })).status).toBe(416);

    const u = new URL(url);
    const sig = u.searchParams.get('signature')!;
    const expires = u.searchParams.get('expires')!;
    const tampered = `${u.origin}${u.pathname}?expires=${Number(expires) + 1}&signature=${sig}`;
    expect((await fetch(tampered)).status).toBe(403);
    const flipped = `${u.origin}${u.pathname}?expires=${expires}&signature=${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await fetch(flipped)).status).toBe(403);
    const borrowed = `${u.origin}/v1/files/${b.id}/content?expires=${expires}&signature=${sig}`;
    const refused = await fetch(borrowed);
    expect(refused.status).toBe(403);
    expect((await problemOf(refused)).title).toBe('Forbidden');
    const past = Math.floor(Date.now() / 1000) - 10;
    const expired = await api.files.signedUrl('acme', a.id, 1);
    const expiredUrl = new URL(expired.url);
    expiredUrl.searchParams.set('expires', String(past));
    expect((await fetch(expiredUrl)).status).toBe(403);
    expect(
      (await api.call('GET', `/v1/files/${a.id}/url?ttl=8d`, { token: acme, tenant: 'acme' })).status,
    ).toBe(400);

    const audit = await t
      .db('audit_log')
      .whereIn('action', ['files.url', 'files.download'])
      .where({ entity_id: a.id });
    expect(audit.map((r) => r.action)).toEqual(expect.arrayContaining(['files.url', 'files.download']));
  });

  it('stop working once the file is deleted', async () => {
    const f = await fileOf(upload(api, acme, 'acme', 'gone.txt', Buffer.from('bye'), 'text/plain'));
    const { url } = (await (
      await api.call('GET', `/v1/files/${f.id}/url`, { token: acme, tenant: 'acme' })
    ).json()) as { url: string };
    expect((await api.call('DELETE', `/v1/files/${f.id}`, { token: acme, tenant: 'acme' })).status).toBe(204);
    expect((await fetch(url)).status).toBe(404);
    expect((await api.call('GET', `/v1/files/${f.id}`, { token: acme, tenant: 'acme' })).status).toBe(404);
    await expect(fs.stat(path.join(api.home, 'files', 'tenants', 'acme', f.id))).rejects.toThrow();
  });
});

describe('tenant isolation', () => {
  it("answers 404 for another tenant's file on every route", async () => {
    const f = await fileOf(upload(api, acme, 'acme', 'private.txt', Buffer.from('secret'), 'text/plain'));
    for (const [method, p] of [
      ['GET', `/v1/files/${f.id}`],
      ['GET', `/v1/files/${f.id}/url`],
      ['DELETE', `/v1/files/${f.id}`],
    ] as const) {
      const res = await api.call(method, p, { token: other, tenant: 'globex' });
      expect(res.status, `${method} ${p}`).toBe(404);
    }
    const list = await listOf(api.call('GET', '/v1/files', { token: other, tenant: 'globex' }));
    expect(list.items).toEqual([]);
    expect((await api.call('GET', `/v1/files/${f.id}`, { token: acme, tenant: 'acme' })).status).toBe(200);
  });
});

describe('quotas', () => {
  it('refuses the 501st file under the default limits', { timeout: 120_000 }, async () => {
    const token = await api.token({ tenants: ['full'] });
    const pdf = pdfBytes('tiny');
    for (let batch = 0; batch < 25; batch++) {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => upload(api, token, 'full', `doc-${batch * 20 + i}.pdf`, pdf)),
      );
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
      await Promise.all(results.map((r) => r.body?.cancel()));
    }
    const res = await upload(api, token, 'full', 'doc-501.pdf', pdf);
    expect(res.status).toBe(409);
    expect(await problemOf(res)).toMatchObject({
      reason: 'quota_exceeded',
      usage: { files: 500, bytes: 500 * pdf.length },
      limits: { maxFiles: 500 },
    });
  });

  it('never lets 20 concurrent uploads at the edge exceed the file count, and a delete frees a slot at once', async () => {
    await t
      .db('tenants')
      .where({ id: 'quota' })
      .update({ settings: { files: { maxFiles: 5 } } });
    const token = await api.token({ tenants: ['quota'] });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        upload(api, token, 'quota', `f${i}.txt`, Buffer.from(`file ${i}`), 'text/plain'),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 409)).toHaveLength(15);
    const conflict = (await results.find((r) => r.status === 409)!.json()) as Record<string, unknown>;
    expect(conflict).toMatchObject({
      reason: 'quota_exceeded',
      usage: { files: 5 },
      limits: { maxFiles: 5 },
    });
    for (const r of results) if (r.status === 201) await r.body?.cancel();
    const counted = await t
      .db('files')
      .where({ tenant_id: 'quota' })
      .whereNull('deleted_at')
      .count({ n: '*' });
    expect(Number(counted[0]?.n)).toBe(5);
    const list = await listOf(api.call('GET', '/v1/files', { token, tenant: 'quota' }));
    expect(list.usage.files).toBe(5);
    expect((await upload(api, token, 'quota', 'sixth.txt', Buffer.from('6'), 'text/plain')).status).toBe(409);
    expect(
      (await api.call('DELETE', `/v1/files/${list.items[0]!.id}`, { token, tenant: 'quota' })).status,
    ).toBe(204);
    expect((await upload(api, token, 'quota', 'sixth.txt', Buffer.from('6'), 'text/plain')).status).toBe(201);
  });

  it('holds the storage quota under concurrency and answers 413 for one file over the file limit', async () => {
    await t
      .db('tenants')
      .where({ id: 'quota' })
      .update({
        settings: { files: { maxFiles: 1000, maxStorageMb: 0.01, maxFileMb: 0.005 } },
      });
    await t.db('files').where({ tenant_id: 'quota' }).update({ deleted_at: t.db.fn.now() });
    const token = await api.token({ tenants: ['quota'] });
    // 10485 bytes of storage; 20 files of 1000 bytes: at most 10 fit.
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        upload(api, token, 'quota', `k${i}.txt`, Buffer.alloc(1000, 97), 'text/plain'),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    const usage = await api.files.usage('quota');
    expect(usage.bytes).toBeLessThanOrEqual(10_485);
    const big = await upload(api, token, 'quota', 'big.txt', Buffer.alloc(6000, 97), 'text/plain');
    expect(big.status).toBe(413);
    expect(await problemOf(big)).toMatchObject({ status: 413, reason: 'file_too_large' });
    // Without Content-Length (chunked): refused once the stream passes the limit.
    const chunked = await fetch(`${api.url}/v1/files?name=big2.txt`, {
      method: 'POST',
      headers: { ...auth(token, 'quota'), 'content-type': 'text/plain' },
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < 6; i++) c.enqueue(new Uint8Array(1000).fill(98));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(await t.db('files').where({ tenant_id: 'quota', name: 'big2.txt' })).toEqual([]);
  });
});

describe('faults', () => {
  it('keeps nothing of an upload cut off mid-stream, and the sweep leaves no orphan', async () => {
    const before = await t.db('files').where({ tenant_id: 'acme' }).count({ n: '*' });
    await new Promise<void>((resolve) => {
      const req = http.request(`${api.url}/v1/files?name=cut.bin`, {
        method: 'POST',
        headers: {
          ...auth(acme, 'acme'),
          'content-type': 'application/octet-stream',
          'content-length': '1000000',
        },
      });
      req.on('error', () => resolve());
      req.on('response', (res) => {
        res.resume();
        resolve();
      });
      req.write(Buffer.alloc(64 * 1024, 1), () => setTimeout(() => req.destroy(), 100));
    });
    // The server notices the reset and cleans up; give it a moment.
    for (let i = 0; i < 50; i++) {
      const staged = await fs.readdir(path.join(api.home, 'files', '.staging')).catch(() => []);
      if (staged.length === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await fs.readdir(path.join(api.home, 'files', '.staging'))).toEqual([]);
    expect(await t.db('files').where({ tenant_id: 'acme' }).count({ n: '*' })).toEqual(before);
    // An object no row names (a crash between write and record) is removed by the sweep.
    const orphan = path.join(api.home, 'files', 'tenants', 'acme', '0190b3c4-0000-7000-8000-000000000000');
    await fs.writeFile(orphan, 'orphan');
    const swept = await api.files.sweep();
    // The orphan, and the objects of the rows the quota tests deleted behind the API's back.
    expect(swept.objects).toBeGreaterThanOrEqual(1);
    await expect(fs.stat(orphan)).rejects.toThrow();
    const live = await t
      .db('files')
      .where({ tenant_id: 'acme', status: 'ready' })
      .whereNull('deleted_at')
      .first('id');
    await fs.stat(path.join(api.home, 'files', 'tenants', 'acme', live.id));
  });

  it('answers 503 with Retry-After when storage fails, and records nothing', async () => {
    const dir = path.join(api.home, 'files', 'tenants', 'globex');
    // A file where the tenant's directory should be: every write fails.
    await fs.mkdir(path.dirname(dir), { recursive: true });
    await fs.writeFile(dir, 'not a directory');
    try {
      const res = await upload(api, other, 'globex', 'x.txt', Buffer.from('x'), 'text/plain');
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await t.db('files').where({ tenant_id: 'globex' })).toEqual([]);
    } finally {
      await fs.rm(dir);
    }
    expect((await upload(api, other, 'globex', 'x.txt', Buffer.from('x'), 'text/plain')).status).toBe(201);
  });
});

describe('OpenAPI', () => {
  it('documents every file route', async () => {
    const doc = (await (await fetch(`${api.url}/v1/openapi.json`)).json()) as {
      paths: Record<string, { post: { requestBody: { content: object } } }>;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/files', '/v1/files/{id}', '/v1/files/{id}/url', '/v1/files/{id}/content']),
    );
    const result = await validate(structuredClone(doc) as Parameters<typeof validate>[0]);
    expect(result.valid ? '' : compileErrors(result)).toBe('');
    expect(result.warnings).toEqual([]);
    expect(Object.keys(doc.paths['/v1/files']!.post.requestBody.content)).toContain('multipart/form-data');
  });
});
