import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { mintToken } from '../engine/auth/mint.ts';
import { environment, loadConfig } from '../engine/config.ts';
import { generateKey } from '../engine/crypto/index.ts';
import { contentHash, payloadHash } from '../engine/db/audit-hash.ts';
import { type Knex, makeDb } from '../engine/db/knex.ts';
import { migrateUp } from '../engine/db/migrate.ts';
import { enableTenantRls } from '../engine/db/rls.ts';
import { startEngine } from '../engine/engine.ts';
import { makeLogger } from '../engine/log.ts';
import { benchDatabase, type LoadFigures, listen, loadFigures, loadInChild } from './support.ts';

const { values: knobs, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    duration: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    token: { type: 'string' },
  },
});
const DURATION_S = Number(knobs.duration);
const ROUNDS = Number(knobs.rounds);
const CONNECTIONS = Number(knobs.connections);
const TENANT = 'bench';
const JWT_SECRET = 'atlas-bench-secret-0123456789abcdef';
const STRIPE_SECRET = 'whsec_benchBenchBench0123456789abcdef';

/** The API load generator's side (a child process): one JSON line of figures. */
async function loadApi(url: string, token: string): Promise<void> {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION_S,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'x-tenant-id': TENANT, 'content-type': 'application/json' },
    body: JSON.stringify({ input: { name: 'Ada' } }),
  });
  const figures = loadFigures(result, DURATION_S);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

function child(args: string[]): Promise<LoadFigures> {
  return loadInChild(args, DURATION_S, CONNECTIONS);
}

/**
 * The plain insert the chain replaced: the same rows, into a table without chain columns (its
 * ids drawn from the audit log's own sequence), with the audit log's indexes and policies.
 */
async function installPlain(db: Knex): Promise<void> {
  await db.raw('create table audit_log_plain (like audit_log including defaults including constraints)');
  await db.raw(
    'alter table audit_log_plain drop column seq, drop column payload_hash, drop column prev_hash, drop column hash',
  );
  await db.raw('alter table audit_log_plain add primary key (id)');
  await db.raw('create index on audit_log_plain (tenant_id, id desc)');
  await db.raw('create index on audit_log_plain (tenant_id, entity_type, entity_id)');
  await enableTenantRls(db, 'audit_log_plain', { privileges: ['select', 'insert'] });
}

const PLAIN_APPEND = `
  create or replace function audit_append(entries jsonb) returns setof bigint language sql as $$
    insert into audit_log_plain (tenant_id, at, actor, action, entity_type, entity_id, request_id, status,
                                 result, summary, connector, method, host, path, duration_ms)
    select t.x->>'tenant_id', (t.x->>'at')::timestamptz, t.x->>'actor', t.x->>'action', t.x->>'entity_type',
           t.x->>'entity_id', t.x->>'request_id', (t.x->>'status')::int, t.x->>'result', t.x->'summary',
           t.x->>'connector', t.x->>'method', t.x->>'host', t.x->>'path', (t.x->>'duration_ms')::int
      from jsonb_array_elements(entries) with ordinality as t(x, ord)
     order by t.ord
    returning id
  $$`;

/**
 * An API write's entry in plain mode: the same insert, in the request's own transaction, and
 * nothing left waiting for a chain (it returns no id, so no batch follows the commit).
 */
const PLAIN_DEFER = `
  create or replace function audit_defer(entries jsonb) returns setof bigint language plpgsql as $$
  begin
    perform audit_append(entries);
  end $$`;

/** The engine's hashing of one typical entry, in microseconds (it runs in both modes). */
function hashingMicros(): number {
  const fields = {
    tenant_id: TENANT,
    at_us: String(Date.now() * 1000),
    actor: 'bench',
    action: 'runs.trigger',
    entity_type: 'run',
    entity_id: '0192f7a1-2b3c-7d4e-8f90-123456789abc',
    request_id: 'req-1',
    status: 202,
    result: 'ok',
    connector: null,
    method: 'POST',
    host: null,
    path: '/v1/workflows/WF-001/runs',
    duration_ms: 3,
  };
  const summary = { workflowId: 'WF-001', input: { name: 'Ada' }, idempotencyKey: null };
  const n = 20_000;
  const start = performance.now();
  for (let i = 0; i < n; i++) contentHash(fields, payloadHash(summary));
  return ((performance.now() - start) * 1000) / n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmtRound = (f: LoadFigures) => `${f.rps.toFixed(0)}/s p99 ${f.p99} ms`;

async function main(): Promise<void> {
  // It swaps the database's audit_append for a while: only ever on a throwaway database.
  if (loadConfig(environment()).databaseUrl)
    throw new Error(
      'bench/audit-chain.ts replaces audit_append while it runs: unset DATABASE_URL to run it on an embedded database of its own',
    );
  const pgInstance = await benchDatabase('atlas_bench_audit');
  const config = loadConfig({
    DATABASE_URL: pgInstance.url,
    LOG_LEVEL: 'silent',
    ATLAS_JWT_SECRET: JWT_SECRET,
    ATLAS_ENCRYPTION_KEY: generateKey(),
  });
  const db = makeDb(pgInstance.url, { poolSize: 20 });
  await migrateUp(db, pgInstance.url);
  await db('tenants').insert({ id: TENANT, name: 'Bench' }).onConflict('id').ignore();
  await db('tenant_workflows').insert({ tenant_id: TENANT, workflow_id: 'WF-021', enabled: true });
  const { rows } = await db.raw<{ rows: Array<{ def: string }> }>(
    `select pg_get_functiondef('audit_append(jsonb)'::regprocedure) as def`,
  );
  const CHAINED_APPEND = rows[0]!.def;
  const deferDef = await db.raw<{ rows: Array<{ def: string }> }>(
    `select pg_get_functiondef('audit_defer(jsonb)'::regprocedure) as def`,
  );
  const CHAINED_DEFER = deferDef.rows[0]!.def;
  await installPlain(db);
  const engine = await startEngine({
    config,
    log: makeLogger('silent', false),
    http: true,
    worker: false,
    listen: false,
    database: { db, url: pgInstance.url },
  });
  await engine.services.secrets.put(TENANT, 'STRIPE_WEBHOOK_SECRET', STRIPE_SECRET);
  const api = await listen(engine.app!.callback());
  const token = await mintToken({ secret: JWT_SECRET, sub: 'bench', tenants: [TENANT], ttlSeconds: 3600 });
  const webhooks = path.join(import.meta.dirname, 'webhooks.ts');
  const paths = {
    webhook: () => child([webhooks, 'load', `${api.url}/v1/webhooks/stripe?tenantId=${TENANT}`]),
    api: () =>
      child([import.meta.filename, 'load-api', `${api.url}/v1/workflows/WF-001/runs`, `--token=${token}`]),
  };
  const results: Record<string, Record<'chained' | 'plain', LoadFigures[]>> = {
    webhook: { chained: [], plain: [] },
    api: { chained: [], plain: [] },
  };
  const loads: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which mode goes first, so that a drift of the machine's load favours neither.
      const order = round % 2 === 0 ? (['chained', 'plain'] as const) : (['plain', 'chained'] as const);
      for (const name of ['webhook', 'api'] as const) {
        for (const mode of order) {
          await db.raw(mode === 'chained' ? CHAINED_APPEND : PLAIN_APPEND);
          await db.raw(mode === 'chained' ? CHAINED_DEFER : PLAIN_DEFER);
          const f = await paths[name]();
          if (f.failed > 0) throw new Error(`${name} (${mode}): ${f.failed} requests failed`);
          results[name]![mode].push(f);
          loads.push(os.loadavg()[0]!);
          console.log(`round ${round + 1} ${name.padEnd(7)} ${mode.padEnd(7)} ${fmtRound(f)}`);
        }
      }
    }
    await db.raw(CHAINED_APPEND);
    await db.raw(CHAINED_DEFER);
    const chainedRows = await db('audit_log').count<{ n: string }[]>('* as n');
    const plainRows = await db('audit_log_plain').count<{ n: string }[]>('* as n');
    console.log(
      `\nAudit chain vs the plain insert, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION_S} s per mode and path, interleaved, loopback, ${os.cpus().length} cores`,
    );
    for (const name of ['webhook', 'api'] as const) {
      const chained = median(results[name]!.chained.map((f) => f.rps));
      const plain = median(results[name]!.plain.map((f) => f.rps));
      const spread = (mode: 'chained' | 'plain') =>
        results[name]![mode].map((f) => f.rps.toFixed(0)).join(', ');
      // Each round's two runs are back to back: their ratio shares the machine's load of the moment.
      const paired = median(results[name]!.chained.map((f, i) => f.rps / results[name]!.plain[i]!.rps));
      console.log(
        `${name.padEnd(7)} chained median ${chained.toFixed(0)}/s (${spread('chained')}), plain median ${plain.toFixed(0)}/s (${spread('plain')}): ratio ${(chained / plain).toFixed(3)}, cost ${((1 - chained / plain) * 100).toFixed(1)}%; median of the rounds' ratios ${paired.toFixed(3)}, cost ${((1 - paired) * 100).toFixed(1)}% (target < 10%)`,
      );
    }
    console.log(`the engine's hashing of one entry (both modes): ${hashingMicros().toFixed(1)} µs`);
    console.log(`audit rows: ${chainedRows[0]!.n} chained, ${plainRows[0]!.n} plain`);
    console.log(
      `load average (1 min) during the rounds: ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)}`,
    );
  } finally {
    api.server.closeAllConnections();
    await new Promise((resolve) => api.server.close(resolve));
    await engine.stop();
    await db.destroy();
    await pgInstance.stop();
  }
}

if (positionals[0] === 'load-api') await loadApi(positionals[1]!, knobs.token!);
else await main();
