/**
 * Uploads stream: a 200 MB upload (with ATLAS_MAX_FILE_MB raised) grows the process's RSS by
 * less than 50 MB. Client and server share this process, so the figure covers both.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { type FilesApi, startFilesApi } from './harness.ts';

const t = useTestDatabase();
let api: FilesApi;

beforeAll(async () => {
  await t.db('tenants').insert({ id: 'acme', name: 'Acme' });
  api = await startFilesApi(t.db, { ATLAS_MAX_FILE_MB: '300', ATLAS_MAX_STORAGE_MB_PER_TENANT: '1000' });
});

afterAll(async () => {
  await api?.close();
});

const SIZE = 200 * 1024 * 1024;
const CHUNK = 64 * 1024;

describe('streaming uploads', () => {
  it('store 200 MB with less than 50 MB of RSS growth', { timeout: 120_000 }, async () => {
    const token = await api.token({ tenants: ['acme'] });
    const chunk = Buffer.alloc(CHUNK);
    for (let i = 0; i < CHUNK; i++) chunk[i] = i % 251;
    const expected = createHash('sha256');
    for (let sent = 0; sent < SIZE; sent += CHUNK) expected.update(chunk);
    globalThis.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const started = performance.now();
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request(`${api.url}/v1/files?name=big.bin`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'x-tenant-id': 'acme',
          'content-type': 'application/octet-stream',
          'content-length': String(SIZE),
        },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve(text));
      });
      let sent = 0;
      const pump = () => {
        while (sent < SIZE) {
          sent += CHUNK;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    const seconds = (performance.now() - started) / 1000;
    const growthMb = (peak - baseline) / 1024 / 1024;
    console.log(
      `200 MB upload: ${seconds.toFixed(1)} s (${(200 / seconds).toFixed(0)} MB/s), RSS growth ${growthMb.toFixed(1)} MB`,
    );
    const file = JSON.parse(body) as { size: number; sha256: string };
    expect(file.size).toBe(SIZE);
    expect(file.sha256).toBe(expected.digest('hex'));
    expect(growthMb).toBeLessThan(50);
  });
});
