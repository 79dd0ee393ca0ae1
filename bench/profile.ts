// The profile of one benchmark's server: `npm run bench:profile -- get|post|webhook`.
// The server runs in this process under V8's CPU profiler (the profile `node --cpu-prof`
// writes, taken over the measured window only), the load in a child process (the load
// generators of bench/api.ts and bench/webhooks.ts); every query
// of the server's pool goes through a counting wrapper.
import fs from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../engine/config.ts';
import { generateKey } from '../engine/crypto/index.ts';
import { countQueries } from '../engine/db/query-counter.ts';
import { formatSummary, summarise, summariseAllocations } from './cpu-profile.ts';
import { formatPgSide, watchPostgres } from './pg-side.ts';
import {
  BENCH_JWT_SECRET,
  benchApi,
  benchDatabase,
  benchHeaders,
  type LoadFigures,
  loadInChild,
} from './support.ts';

const { values: knobs, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string' },
    out: { type: 'string', default: path.join(os.tmpdir(), 'atlas-profiles') },
    /** Also a sampling heap profile: the bytes each function allocates per request, garbage included. */
    heap: { type: 'boolean', default: false },
  },
});
const DURATION_S = Number(knobs.duration);
const STRIPE_SECRET = 'whsec_benchBenchBench0123456789abcdef';
const BENCHES = ['get', 'post', 'webhook'] as const;
type Bench = (typeof BENCHES)[number];

async function main(bench: Bench): Promise<void> {
  const connections = Number(knobs.connections ?? (bench === 'webhook' ? 50 : 16));
  const pgInstance = await benchDatabase('atlas_bench_profile');
  const config = loadConfig({
    DATABASE_URL: pgInstance.url,
    ATLAS_JWT_SECRET: BENCH_JWT_SECRET,
    ATLAS_ENCRYPTION_KEY: generateKey(),
    LOG_LEVEL: 'info',
  });
  const api = await benchApi(pgInstance.url, config);
  const headers = await benchHeaders();
  const body = JSON.stringify({ input: { name: 'Ada' } });
  const session = new Session();
  try {
    let measure: () => Promise<LoadFigures>;
    // bench/api.ts's load generator, in a child process.
    const apiBench = path.join(import.meta.dirname, 'api.ts');
    const child = (url: string, method: string, b: string) => () =>
      loadInChild([apiBench, 'load', url, method, JSON.stringify(headers), b], DURATION_S, connections);
    if (bench === 'webhook') {
      await api.db('tenant_workflows').insert({ tenant_id: 'bench', workflow_id: 'WF-021', enabled: true });
      await api.engine.services.secrets.put('bench', 'STRIPE_WEBHOOK_SECRET', STRIPE_SECRET);
      const webhooks = path.join(import.meta.dirname, 'webhooks.ts');
      const url = `${api.url}/v1/webhooks/stripe?tenantId=bench`;
      measure = () => loadInChild([webhooks, 'load', url], DURATION_S, connections);
    } else if (bench === 'get') {
      const first = await fetch(`${api.url}/v1/workflows/WF-001/runs`, { method: 'POST', headers, body });
      if (first.status !== 202) throw new Error(`cannot start a run: ${first.status} ${await first.text()}`);
      const { id } = (await first.json()) as { id: string };
      measure = child(`${api.url}/v1/runs/${id}`, 'GET', '');
    } else measure = child(`${api.url}/v1/workflows/WF-001/runs`, 'POST', body);

    const idleRss = process.memoryUsage().rss;
    let peakRss = idleRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 100);
    const counter = countQueries(api.db);
    const pgSide = await watchPostgres(api.db);
    const cpuBefore = process.cpuUsage();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    if (knobs.heap)
      await session.post('HeapProfiler.startSampling', {
        samplingInterval: 16_384,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    const figures = await measure();
    const { profile } = await session.post('Profiler.stop');
    const heap = knobs.heap ? (await session.post('HeapProfiler.stopSampling')).profile : undefined;
    const cpu = process.cpuUsage(cpuBefore);
    const pg = await pgSide();
    clearInterval(sampler);
    counter.stop();
    const load = os.loadavg().map((l) => l.toFixed(1));

    await fs.mkdir(knobs.out, { recursive: true });
    const file = path.join(knobs.out, `${bench}-${Date.now()}.cpuprofile`);
    await fs.writeFile(file, JSON.stringify(profile));
    const counts = counter.counts();
    const per = (n: number) => (n / Math.max(figures.ok, 1)).toFixed(2);
    const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
    console.log(`${bench}: ${connections} connections, ${DURATION_S} s, load average ${load.join(' ')}`);
    console.log(
      `${figures.rps.toFixed(0)} req/s 2xx, p50 ${figures.p50} ms, p99 ${figures.p99} ms, failed ${figures.failed}`,
    );
    console.log(
      `per request: ${per(counts.roundTrips)} round trips, ${per(counts.statements)} statements, ${per(counts.commits)} commits (the pool's sweeps included)`,
    );
    console.log(`server RSS: idle ${mb(idleRss)}, peak ${mb(peakRss)}`);
    const cpuPer = ((cpu.user + cpu.system) / Math.max(figures.ok, 1)).toFixed(0);
    console.log(`server CPU: ${cpuPer} µs per request (the profiler's own cost included)`);
    console.log(formatPgSide(pg, figures.ok));
    console.log(formatSummary(summarise(profile)));
    if (heap) {
      const allocations = summariseAllocations(heap.head as Parameters<typeof summariseAllocations>[0]);
      const kb = (b: number) => `${(b / 1024 / Math.max(figures.ok, 1)).toFixed(1).padStart(6)} KB`;
      console.log(`allocated: ${kb(allocations.totalBytes).trim()} per request (sampled), by package:`);
      for (const p of allocations.packages) console.log(`  ${kb(p.selfMs)}  ${p.name}`);
      console.log('by function:');
      for (const f of allocations.functions) console.log(`  ${kb(f.selfMs)}  ${f.name}`);
    }
    console.log(`profile: ${file} (open in Chrome DevTools or speedscope)`);
  } finally {
    session.disconnect();
    await api.close();
    await pgInstance.stop();
  }
}

if (BENCHES.includes(positionals[0] as Bench)) await main(positionals[0] as Bench);
else {
  console.error(`Name the benchmark to profile: ${BENCHES.join(', ')}.`);
  process.exitCode = 2;
}
