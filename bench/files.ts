// Files through Atlas (local driver) against the raw file system, in the same run:
// upload and download MB/s, and signed-URL downloads/s.
//
//   npx tsx bench/files.ts [--mb 100] [--files 5] [--seconds 5] [--connections 16]

import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { mintToken } from '../engine/auth/mint.ts';
import { loadConfig } from '../engine/config.ts';
import { benchApi, benchDatabase } from './support.ts';

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '100' },
    files: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
  },
});
const MB = Number(args.mb);
const FILES = Number(args.files);
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const SECRET = 'atlas-bench-secret-0123456789abcdef';
const CHUNK = 64 * 1024;

const chunk = Buffer.alloc(CHUNK);
for (let i = 0; i < CHUNK; i++) chunk[i] = (i * 7) % 251;
const bytes = MB * 1024 * 1024;

/** Writes `bytes` of the chunk pattern into a writable, respecting backpressure. */
async function pump(out: NodeJS.WritableStream): Promise<void> {
  for (let sent = 0; sent < bytes; sent += CHUNK) {
    if (!out.write(chunk)) await once(out as unknown as NodeJS.EventEmitter, 'drain');
  }
  out.end();
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream);
}

const rate = (ms: number) => (MB * FILES) / (ms / 1000);

async function main(): Promise<void> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-bench-files-'));
  const pgInstance = await benchDatabase('atlas_bench_files');
  const config = loadConfig({
    DATABASE_URL: pgInstance.url,
    ATLAS_HOME: home,
    ATLAS_JWT_SECRET: SECRET,
    LOG_LEVEL: 'silent',
    ATLAS_MAX_FILE_MB: String(Math.max(100, MB)),
    ATLAS_MAX_STORAGE_MB_PER_TENANT: String(MB * FILES + 100),
  });
  const api = await benchApi(pgInstance.url, config);
  const services = api.engine.services;
  const token = await mintToken({ secret: SECRET, sub: 'bench', tenants: ['bench'], ttlSeconds: 3600 });
  const raw = path.join(home, 'raw');
  await fs.mkdir(raw);
  try {
    // The baseline: the same bytes straight to and from the file system.
    let started = performance.now();
    for (let i = 0; i < FILES; i++) {
      const out = createWriteStream(path.join(raw, `f${i}`));
      const done = once(out, 'finish');
      await pump(out);
      await done;
    }
    const rawWrite = performance.now() - started;
    started = performance.now();
    for (let i = 0; i < FILES; i++) await drain(createReadStream(path.join(raw, `f${i}`)));
    const rawRead = performance.now() - started;

    // Through Atlas: authenticated raw-body uploads, then signed-URL downloads.
    const ids: string[] = [];
    started = performance.now();
    for (let i = 0; i < FILES; i++) {
      const req = http.request(`${api.url}/v1/files?name=f${i}.bin`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'x-tenant-id': 'bench',
          'content-type': 'application/octet-stream',
          'content-length': String(bytes),
        },
      });
      const response = once(req, 'response') as Promise<[http.IncomingMessage]>;
      await pump(req);
      const [res] = await response;
      let text = '';
      for await (const d of res) text += d;
      if (res.statusCode !== 201) throw new Error(`upload failed: ${res.statusCode} ${text}`);
      ids.push((JSON.parse(text) as { id: string }).id);
    }
    const atlasWrite = performance.now() - started;
    const urls: string[] = [];
    for (const id of ids) {
      const { url } = await services.files.signedUrl('bench', id, 3600);
      const u = new URL(url);
      urls.push(`${api.url}${u.pathname}${u.search}`);
    }
    started = performance.now();
    for (const url of urls) {
      const [res] = (await once(http.get(url), 'response')) as [http.IncomingMessage];
      if (res.statusCode !== 200) throw new Error(`download failed: ${res.statusCode}`);
      await drain(res);
    }
    const atlasRead = performance.now() - started;

    // Signed-URL downloads/s of a small file.
    const small = await services.files.upload('bench', 'bench', {
      name: 'small.txt',
      contentType: 'text/plain',
      body: [Buffer.alloc(1024, 97)],
    });
    const smallUrl = new URL((await services.files.signedUrl('bench', small.id, 3600)).url);
    const result = await autocannon({
      url: `${api.url}${smallUrl.pathname}${smallUrl.search}`,
      connections: CONNECTIONS,
      duration: SECONDS,
    });

    console.log(`Files, local driver: ${FILES} files of ${MB} MB each, loopback`);
    console.log(`raw file system write    ${rate(rawWrite).toFixed(0).padStart(6)} MB/s`);
    console.log(
      `Atlas upload             ${rate(atlasWrite).toFixed(0).padStart(6)} MB/s   ratio ${(rawWrite / atlasWrite).toFixed(2)}`,
    );
    console.log(`raw file system read     ${rate(rawRead).toFixed(0).padStart(6)} MB/s`);
    console.log(
      `Atlas signed download    ${rate(atlasRead).toFixed(0).padStart(6)} MB/s   ratio ${(rawRead / atlasRead).toFixed(2)}`,
    );
    console.log(
      `signed-URL downloads (1 KB, ${CONNECTIONS} connections, ${SECONDS} s): ${result.requests.average.toFixed(0)}/s, ` +
        `p99 ${result.latency.p99} ms, non-2xx ${result.non2xx + result.errors}`,
    );
  } finally {
    await api.close();
    await pgInstance.stop();
    await fs.rm(home, { recursive: true, force: true });
  }
}

await main();
