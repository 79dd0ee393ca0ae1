// Fuzz at full size: 100,000 generated requests (FUZZ_RUNS to change it) across every route
// of a real `atlas serve` process on loopback. Prints the answers by status, every 5xx or
// dropped request, error answers that are not problem+json, and the server's memory after
// warm-up and at the end (target: within 20%).
// Run: npm run fuzz
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { mintToken } from '../engine/auth/mint.ts';
import { childEnvironment } from '../engine/config.ts';
import { freePort } from '../engine/db/embedded.ts';
import { fuzz, rssMb } from '../test/faults/fuzz-kit.ts';
import { benchDatabase } from './support.ts';

const ROOT = path.join(import.meta.dirname, '..');
const SECRET = 'fuzz-bench-jwt-secret-0123456789abcdef';
const RUNS = Number(childEnvironment()['FUZZ_RUNS'] ?? 100_000);

const database = await benchDatabase('atlas_fuzz');
const home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-fuzz-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = spawn(process.execPath, [path.join(ROOT, 'bin/atlas.js'), 'serve'], {
  cwd: ROOT,
  stdio: ['ignore', 'pipe', 'pipe'],
  env: childEnvironment({
    DATABASE_URL: database.url,
    PORT: String(port),
    ATLAS_HOME: home,
    ATLAS_MANIFESTS: path.join(ROOT, 'manifests'),
    ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64'),
    ATLAS_JWT_SECRET: SECRET,
    LOG_LEVEL: 'error',
  }),
});
let log = '';
server.stdout.on('data', (d: Buffer) => {
  log += d.toString();
});
server.stderr.on('data', (d: Buffer) => {
  log += d.toString();
});
try {
  for (let i = 0; i < 600 && !/listening on/.test(log); i++) {
    if (server.exitCode !== null) throw new Error(`atlas serve exited:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  // `atlas serve` logs at error level here; wait for the port instead of the line.
  for (let i = 0; i < 600; i++) {
    if ((await fetch(`${base}/healthz`).catch(() => undefined))?.ok) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const client = new pg.Client(database.url);
  await client.connect();
  await client.query(
    `insert into tenants (id, name) values ('acme', 'Acme'), ('other', 'Other') on conflict do nothing`,
  );
  await client.end();
  const tokens = [
    await mintToken({ secret: SECRET, sub: 'fuzz', tenants: ['acme'], ttlSeconds: 86_400 }),
    await mintToken({ secret: SECRET, sub: 'fuzz-other', tenants: ['other'], ttlSeconds: 86_400 }),
    await mintToken({
      secret: SECRET,
      sub: 'fuzz-admin',
      tenants: ['acme'],
      admin: true,
      ttlSeconds: 86_400,
    }),
  ];
  const target = {
    base,
    tokens,
    tenants: ['acme', 'other', 'nobody'],
    knownIds: ['WF-001', 'WF-010', 'acme'],
  };
  const started = Date.now();
  await fuzz(target, { runs: 2_000, seed: 7, concurrency: 16 });
  const warm = await rssMb(server.pid!);
  const stats = await fuzz(target, {
    runs: RUNS,
    seed: 2026,
    concurrency: 16,
    onProgress: (sent) => {
      if (sent % 10_000 === 0) console.log(`  ${sent.toLocaleString('en')} sent`);
    },
  });
  const end = await rssMb(server.pid!);
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `fuzz: ${stats.sent.toLocaleString('en')} requests in ${seconds.toFixed(0)} s (after 2,000 of warm-up)`,
  );
  console.log(`answers by status: ${JSON.stringify(stats.statuses)}`);
  console.log(
    `5xx or dropped: ${stats.failures.length}; error answers not problem+json: ${stats.unclear.length}`,
  );
  for (const f of [...stats.failures, ...stats.unclear].slice(0, 10)) console.log(JSON.stringify(f));
  console.log(
    `server alive: ${server.exitCode === null}; RSS after warm-up ${warm.toFixed(0)} MB, at the end ${end.toFixed(0)} MB (ratio ${(end / warm).toFixed(2)}, target ≤ 1.20)`,
  );
  process.exitCode = stats.failures.length === 0 && server.exitCode === null && end <= warm * 1.2 ? 0 : 1;
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  await database.stop();
  await fs.rm(home, { recursive: true, force: true });
}
