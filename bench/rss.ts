// The memory of the compiled server as `npm start` runs it (API, worker and scheduler in
// one process, with the node flags of the start script) at idle and under load, beside bare Koa in its own process under the same
// load, in one run: `npx tsx bench/rss.ts` (`--duration 10`, `--connections 16`). RSS is
// read from /proc every 100 ms.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
// @ts-expect-error: a plain JavaScript build script
import { build } from '../bin/build-dist.js';
import { environment } from '../engine/config.ts';
import { freePort } from '../engine/db/embedded.ts';
import { makeDb } from '../engine/db/knex.ts';
import { BENCH_JWT_SECRET, benchDatabase, benchHeaders, type LoadFigures, loadInChild } from './support.ts';

const { values: knobs } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    /**
     * V8 flags for the server's node, to compare heap settings (`--node-flags=--max-old-space-size=2048`);
     * by default those of `npm start`.
     */
    'node-flags': { type: 'string' },
  },
});
const DURATION_S = Number(knobs.duration);
const CONNECTIONS = Number(knobs.connections);
const ROOT = path.join(import.meta.dirname, '..');
const API_BENCH = path.join(import.meta.dirname, 'api.ts');

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** A child process whose standard output is read and dropped, as a log collector would. */
function start(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

/** The node flags `npm start` runs the server with (between `node` and `bin/atlas.js`). */
function startFlags(): string {
  const { scripts } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  return /^node (.*?)\s*bin\/atlas\.js serve$/.exec(scripts.start)?.[1] ?? '';
}

async function ready(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within 60 s`);
}

/** Idle RSS (after warm-up and 2 s of rest), then the peak under each load, in MB. */
async function measure(pid: number, loads: Array<() => Promise<LoadFigures>>) {
  await new Promise((r) => setTimeout(r, 2000));
  const idle = rssMb(pid);
  let peak = idle;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb(pid));
  }, 100);
  const figures: LoadFigures[] = [];
  const peaks: number[] = [];
  try {
    for (const load of loads) {
      peak = rssMb(pid);
      figures.push(await load());
      peaks.push(peak);
    }
  } finally {
    clearInterval(sampler);
  }
  return { idle, peak: Math.max(...peaks), peaks, figures };
}

const BARE_KOA = `import Koa from 'koa';
const app = new Koa();
app.use(async (ctx) => { for await (const _ of ctx.req); ctx.body = { id: 'run', status: 'queued' }; });
app.listen(Number(process.argv[1]), '127.0.0.1', () => console.log('listening'));`;

async function main(): Promise<void> {
  // The server measured is the compiled one: bin/atlas.js runs the sources through tsx
  // when dist/ is older than they are.
  await build();
  const pgInstance = await benchDatabase('atlas_bench_rss');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...environment(),
    DATABASE_URL: pgInstance.url,
    ATLAS_JWT_SECRET: BENCH_JWT_SECRET,
    LOG_LEVEL: 'info',
    PORT: String(port),
  };
  const nodeFlags = (knobs['node-flags'] ?? startFlags()).split(' ').filter((f) => f !== '');
  const server = start([...nodeFlags, path.join(ROOT, 'bin/atlas.js'), 'serve'], {
    ...env,
    ATLAS_FROM_SOURCE: '0',
  });
  const barePort = await freePort();
  const bare = start(['--input-type=module', '-e', BARE_KOA, String(barePort)], environment());
  try {
    await ready(`${url}/readyz`);
    const db = makeDb(pgInstance.url, { poolSize: 1 });
    await db('tenants').insert({ id: 'bench', name: 'Bench' }).onConflict('id').ignore();
    await db.destroy();
    const headers = await benchHeaders();
    const body = JSON.stringify({ input: { name: 'Ada' } });
    const first = await fetch(`${url}/v1/workflows/WF-001/runs`, { method: 'POST', headers, body });
    if (first.status !== 202) throw new Error(`cannot start a run: ${first.status} ${await first.text()}`);
    const { id } = (await first.json()) as { id: string };
    const load =
      (target: string, method: string, b = '') =>
      () =>
        loadInChild([API_BENCH, 'load', target, method, JSON.stringify(headers), b], DURATION_S, CONNECTIONS);

    const atlas = await measure(server.pid!, [
      load(`${url}/v1/runs/${id}`, 'GET'),
      load(`${url}/v1/workflows/WF-001/runs`, 'POST', body),
    ]);
    await ready(`http://127.0.0.1:${barePort}/`);
    const baseline = await measure(bare.pid!, [load(`http://127.0.0.1:${barePort}/v1/runs/${id}`, 'GET')]);

    const mb = (n: number) => `${n.toFixed(0)} MB`;
    const [get, post] = atlas.figures;
    console.log(
      `compiled atlas serve (API, worker, scheduler) with node ${nodeFlags.join(' ') || '(no flags)'}, ${CONNECTIONS} connections, ${DURATION_S} s per load, load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    console.log(
      `atlas serve: idle ${mb(atlas.idle)}, peak ${mb(atlas.peak)} (under GET ${mb(atlas.peaks[0]!)}, then POST ${mb(atlas.peaks[1]!)})`,
    );
    console.log(
      `  GET ${get!.rps.toFixed(0)} req/s p99 ${get!.p99} ms; POST ${post!.rps.toFixed(0)} req/s p99 ${post!.p99} ms`,
    );
    console.log(`bare Koa: idle ${mb(baseline.idle)}, peak ${mb(baseline.peak)} under GET load`);
    console.log(`peak ratio ${(atlas.peak / baseline.peak).toFixed(2)} of bare Koa's`);
  } finally {
    server.kill('SIGTERM');
    bare.kill('SIGTERM');
    await Promise.all(
      [server, bare].map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)),
    );
    await pgInstance.stop();
  }
}

await main();
