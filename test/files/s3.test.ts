import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectKey } from '../../engine/files/storage.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { problemOf } from '../http/harness.ts';
import { type FilesApi, pdfBytes, startFilesApi, upload } from './harness.ts';
import { type S3Server, startS3 } from './s3.ts';

const t = useTestDatabase();
let s3: S3Server;
let api: FilesApi;
let token: string;

beforeAll(async () => {
  await t.db('tenants').insert({ id: 'acme', name: 'Acme' });
  s3 = await startS3();
  api = await startFilesApi(t.db, s3.env);
  token = await api.token({ tenants: ['acme'] });
});

afterAll(async () => {
  await api?.close();
  await s3?.stop();
});

interface FileJson {
  id: string;
  size: number;
  sha256: string;
}

describe('the s3 driver against an S3-protocol server', () => {
  it('stores a streamed upload intact and hands out a presigned URL that needs no token', async () => {
    const bytes = Buffer.concat([pdfBytes('s3'), randomBytes(3 * 1024 * 1024)]);
    const res = await upload(api, token, 'acme', 'big.pdf', bytes, 'application/pdf');
    expect(res.status).toBe(201);
    const file = (await res.json()) as FileJson;
    expect(file.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(await api.files.storage.head(objectKey('acme', file.id))).toEqual({ size: bytes.length });

    const link = (await (
      await api.call('GET', `/v1/files/${file.id}/url?ttl=60`, { token, tenant: 'acme' })
    ).json()) as { url: string };
    const url = new URL(link.url);
    expect(url.origin).toBe(s3.url);
    expect(url.pathname).toBe(`/atlas-files/tenants/acme/${file.id}`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(link.url).not.toContain('S3RVER&'); // the secret key never appears; only the access key id
    const download = await fetch(link.url);
    expect(download.status).toBe(200);
    const got = Buffer.from(await download.arrayBuffer());
    expect(createHash('sha256').update(got).digest('hex')).toBe(file.sha256);

    const range = await api.files.storage.get(objectKey('acme', file.id), { start: 0, end: 4 });
    const chunks: Buffer[] = [];
    for await (const chunk of range) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('%PDF-');

    expect((await api.call('DELETE', `/v1/files/${file.id}`, { token, tenant: 'acme' })).status).toBe(204);
    expect(await api.files.storage.head(objectKey('acme', file.id))).toBeUndefined();
  });

  it('sweeps objects no live row names', async () => {
    const key = objectKey('acme', '0190b3c4-0000-7000-8000-00000000abcd');
    const body = Buffer.from('orphan');
    const { Readable } = await import('node:stream');
    await api.files.storage.put(key, {
      body: Readable.from([body]),
      size: body.length,
      contentType: 'text/plain',
    });
    const kept = (await (
      await upload(api, token, 'acme', 'kept.txt', Buffer.from('kept'), 'text/plain')
    ).json()) as FileJson;
    const swept = await api.files.sweep();
    expect(swept.objects).toBe(1);
    expect(await api.files.storage.head(key)).toBeUndefined();
    expect(await api.files.storage.head(objectKey('acme', kept.id))).toEqual({ size: 4 });
  });

  it('answers 503 with Retry-After when the service is down, and records nothing', async () => {
    const down = await startS3();
    const env = down.env;
    await down.stop();
    const broken = await startFilesApi(t.db, env);
    try {
      const before = await t.db('files').count({ n: '*' });
      const res = await upload(broken, token, 'acme', 'x.txt', Buffer.from('x'), 'text/plain');
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect((await problemOf(res)).detail).toMatch(/unavailable/);
      expect(await t.db('files').count({ n: '*' })).toEqual(before);
    } finally {
      await broken.close();
    }
  });
});
