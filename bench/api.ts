import os from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Koa from 'koa';
import { loadConfig } from '../engine/config.ts';
import {
  BENCH_JWT_SECRET,
  benchApi,
  benchDatabase,
  benchHeaders,
  type LoadFigures,
  listen,
  loadFigures,
  loadInChild,
} from './support.ts';

const { values: knobs, positionals } = parseArgs({
  allowPositionals: true,
  options: { duration: { type: 'string', default: '5' }, connections: { type: 'string', default: '16' } },
});
const DURATION_S = Number(knobs.duration);
const CONNECTIONS = Number(knobs.connections);
const WORKFLOW = 'WF-001';

/**
 * The load generator's side (a child process, so that it does not share the server's event
 * loop): one request shape, its figures as one JSON line. bench/profile.ts uses it too.
 */
async function load(url: string, method: string, headers: string, body: string): Promise<void> {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION_S,
    method: method as 'GET' | 'POST',
    headers: JSON.parse(headers) as Record<string, string>,
    ...(body === '' ? {} : { body }),
  });
  process.stdout.write(`${JSON.stringify(loadFigures(result, DURATION_S))}\n`);
}

function measure(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  const args = [
    import.meta.filename,
    'load',
    url,
    opts.method ?? 'GET',
    JSON.stringify(opts.headers ?? {}),
    opts.body ?? '',
  ];
  return loadInChild(args, DURATION_S, CONNECTIONS);
}

/** The baseline: Koa with nothing but a handler that answers JSON (and reads a POST body). */
function bareKoa(): Koa {
  const app = new Koa();
  app.use(async (ctx) => {
    if (ctx.method === 'POST') {
      let text = '';
      for await (const chunk of ctx.req) text += chunk;
      ctx.status = 202;
      ctx.body = { received: JSON.parse(text) as unknown };
    } else ctx.body = { id: 'run', status: 'queued' };
  });
  return app;
}

function line(name: string, f: LoadFigures): string {
  return `${name.padEnd(34)} ${f.rps.toFixed(0).padStart(7)} req/s   p99 ${String(f.p99).padStart(4)} ms   non-2xx ${f.failed}`;
}

async function main(): Promise<void> {
  const pgInstance = await benchDatabase('atlas_bench');
  const config = loadConfig({
    DATABASE_URL: pgInstance.url,
    ATLAS_JWT_SECRET: BENCH_JWT_SECRET,
    LOG_LEVEL: 'info',
  });
  const api = await benchApi(pgInstance.url, config);
  const { db } = api;
  const bare = await listen(bareKoa().callback());
  const headers = await benchHeaders();
  const body = JSON.stringify({ input: { name: 'Ada' } });
  try {
    const first = await fetch(`${api.url}/v1/workflows/${WORKFLOW}/runs`, { method: 'POST', headers, body });
    if (first.status !== 202) throw new Error(`cannot start a run: ${first.status} ${await first.text()}`);
    const { id } = (await first.json()) as { id: string };

    const bareGet = await measure(`${bare.url}/v1/runs/${id}`);
    const apiGet = await measure(`${api.url}/v1/runs/${id}`, { headers });
    const barePost = await measure(`${bare.url}/v1/workflows/${WORKFLOW}/runs`, {
      method: 'POST',
      headers,
      body,
    });
    const apiPost = await measure(`${api.url}/v1/workflows/${WORKFLOW}/runs`, {
      method: 'POST',
      headers,
      body,
    });

    console.log(
      `Atlas API vs bare Koa, ${CONNECTIONS} connections, ${DURATION_S} s each, loopback, load from a child process, load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    console.log(line('bare Koa GET', bareGet));
    console.log(line(`GET /v1/runs/:id`, apiGet));
    console.log(line('bare Koa POST (JSON body)', barePost));
    console.log(line(`POST /v1/workflows/${WORKFLOW}/runs`, apiPost));
    console.log(
      `GET  ratio ${(apiGet.rps / bareGet.rps).toFixed(3)} of bare req/s, p99 ${apiGet.p99} vs ${bareGet.p99} ms`,
    );
    console.log(
      `POST ratio ${(apiPost.rps / barePost.rps).toFixed(3)} of bare req/s, p99 ${apiPost.p99} vs ${barePost.p99} ms`,
    );
    const audited = await db('audit_log')
      .where({ action: 'runs.trigger' })
      .count<{ count: number }[]>('* as count');
    console.log(`runs triggered and audited: ${audited[0]?.count}`);
  } finally {
    bare.server.closeAllConnections();
    await new Promise((resolve) => bare.server.close(resolve));
    await api.close();
    await pgInstance.stop();
  }
}

if (positionals[0] === 'load')
  await load(positionals[1]!, positionals[2]!, positionals[3]!, positionals[4] ?? '');
else await main();
