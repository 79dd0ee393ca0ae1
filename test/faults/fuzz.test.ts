/**
 * Generated hostile requests against a real `atlas serve` process (CI size: 5,000; the full
 * 100,000 run is `npm run fuzz`): no answer is a 5xx, no request is dropped, every error is
 * `application/problem+json`, the process keeps running and its memory stays flat.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.ts';
import { type FuzzServer, fuzz, rssMb, startFuzzServer } from './fuzz-kit.ts';

const RUNS = 5_000;

describe('fuzzing every route of atlas serve', () => {
  const database = useTestDatabase();
  let server: FuzzServer;
  let base: string;

  beforeAll(async () => {
    server = await startFuzzServer(database.url);
    base = server.target.base;
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
  });

  it(`answers ${RUNS.toLocaleString('en')} generated requests without a 5xx, a dropped request or a crash`, async () => {
    const { target, engine } = server;
    // Warm-up: the first requests load code and fill caches; memory is compared after them.
    await fuzz(target, { runs: 500, seed: 1, concurrency: 8 });
    const warm = await rssMb(engine.child.pid!);
    const stats = await fuzz(target, { runs: RUNS, seed: 42, concurrency: 8 });
    const end = await rssMb(engine.child.pid!);
    console.log(
      `fuzz: ${stats.sent} requests; statuses ${JSON.stringify(stats.statuses)}; RSS ${warm.toFixed(0)} → ${end.toFixed(0)} MB`,
    );
    expect(stats.failures.slice(0, 5)).toEqual([]);
    expect(stats.unclear.slice(0, 5)).toEqual([]);
    expect(engine.child.exitCode).toBeNull();
    expect(end).toBeLessThan(warm * 1.2);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
  }, 600_000);

  it('answers what the HTTP parser refuses (oversized headers, garbage, bad chunks) in problem+json, and keeps serving', async () => {
    const raw = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(new URL(base).port), '127.0.0.1');
        let answer = '';
        socket.on('data', (d) => {
          answer += d.toString();
        });
        socket.on('end', () => resolve(answer));
        socket.on('error', reject);
        socket.end(text);
      });
    const huge = await raw(`GET /v1/runs HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431 /);
    expect(huge).toContain('Content-Type: application/problem+json');
    expect(JSON.parse(huge.slice(huge.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 431 });
    const garbage = await raw('GARBAGE\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    expect(garbage).toContain('application/problem+json');
    const chunks = await raw(
      'POST /v1/workflows/WF-001/runs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    );
    expect(chunks).toMatch(/^HTTP\/1\.1 400 /);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});
