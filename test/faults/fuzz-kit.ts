/**
 * Generated hostile requests across every route of a running `atlas serve`: the routes come
 * from its own OpenAPI document, the requests from fast-check arbitraries (methods, path
 * parameters, query strings, headers, tokens, content types, bodies and sizes) and a corpus
 * of known-hostile inputs. Used by the CI-sized test (test/faults/fuzz.test.ts) and by
 * `npm run fuzz` (bench/fuzz.ts) at full size.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import { Pool } from 'undici';
import { mintToken } from '../../engine/auth/mint.ts';
import { freePort } from '../../engine/db/embedded.ts';
import { cliEnv, type LongRunning, ROOT, startCli } from '../helpers/cli.ts';

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

export interface FuzzFailure {
  request: { method: string; path: string; headers: Record<string, string>; body?: string };
  status: number | 'network error';
  answer: string;
}

export interface FuzzStats {
  sent: number;
  statuses: Record<string, number>;
  /** Answers of 5xx, and requests the server dropped without an answer. */
  failures: FuzzFailure[];
  /** Error answers (4xx) that are not `application/problem+json`. */
  unclear: FuzzFailure[];
}

export interface FuzzTarget {
  base: string;
  /** Tokens to choose from: one for the tenant, one for another tenant, an admin one... */
  tokens: string[];
  /** Tenant ids to address (the token's, another's, nonsense). */
  tenants: string[];
  /** Values real path parameters may take (a known workflow, run or job id). */
  knownIds: string[];
}

interface Operation {
  method: string;
  /** Path segments; `null` where a parameter goes. */
  segments: (string | null)[];
  query: string[];
}

/** The operations of the OpenAPI document the server serves. */
export async function operations(base: string): Promise<Operation[]> {
  const res = await fetch(`${base}/v1/openapi.json`);
  if (!res.ok) throw new Error(`GET /v1/openapi.json answered ${res.status}`);
  const doc = (await res.json()) as {
    paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
  };
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(methods))
      out.push({
        method: method.toUpperCase(),
        segments: path
          .split('/')
          .slice(1)
          .map((s) => (s.startsWith(':') || s.startsWith('{') ? null : s)),
        query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      });
  return out;
}

/** Inputs that have broken servers before: traversal, encodings, injections, pollution. */
const HOSTILE_TEXT = [
  '../../../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '%',
  '%E0%A4%A',
  '%00',
  '%c0%ae%c0%ae',
  "' or 1=1 --",
  "'; drop table workflow_runs; --",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent as text
  '${7*7}',
  '{{ secrets.STRIPE_SECRET_KEY }}',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  '-1',
  '0',
  '99999999999999999999999999',
  '1e309',
  'NaN',
  'null',
  'true',
  '[]',
  '{}',
  '\u202e\u0000',
  'WF-001',
  'x'.repeat(5000),
];

const HOSTILE_BODIES = [
  '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
  '{"input":{"__proto__":{"admin":true}}}',
  '{"a":',
  '{"a":1,"a":2}',
  '[',
  `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
  `{"x":${'{"x":'.repeat(5_000)}1${'}'.repeat(5_000)}}`,
  '"\\ud800"',
  '\u0000\u0001\u0002',
  '1e999999',
  '-0',
  'null',
  '',
  '{"input":{"name":"Ada"}}',
  '{"url":"http://169.254.169.254/latest/meta-data/","types":["run.succeeded"],"secret":"whsec_AAAA"}',
  '{"value":"x","name":"../../etc"}',
];

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/problem+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=',
  'multipart/form-data; boundary=zz',
  'application/octet-stream',
  'image/png',
  '',
  'application/json, text/plain',
  '*/*',
];

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

/** A header value undici accepts (visible ASCII and spaces), hostile otherwise. */
const headerText = fc.oneof(
  fc.constantFrom(...HOSTILE_TEXT.filter((t) => /^[\x20-\x7e]*$/.test(t))),
  fc.string({
    unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: 200,
  }),
);

const segmentText = fc.oneof(
  fc.constantFrom(...HOSTILE_TEXT),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.uuid(),
);

function encodeSegment(raw: string): string {
  // Percent sequences in visible ASCII (malformed ones included) go as they are: the server
  // must decode them itself. Everything else is encoded.
  return raw.includes('%') && /^[\x21-\x7e]*$/.test(raw) && !/[?#/&=]/.test(raw)
    ? raw
    : encodeURIComponent(raw);
}

function requestArbitrary(ops: Operation[], target: FuzzTarget): fc.Arbitrary<FuzzRequest> {
  const known = fc.constantFrom(...target.knownIds);
  const op = fc.constantFrom(...ops);
  const path = op.chain((o) =>
    fc
      .tuple(
        fc.tuple(...o.segments.map((s) => (s === null ? fc.oneof(known, segmentText) : fc.constant(s)))),
        fc.dictionary(
          fc.oneof(
            fc.constantFrom(...o.query, 'tenantId', '__proto__', 'limit', 'cursor'),
            fc.string({ maxLength: 12 }),
          ),
          fc.oneof(fc.constantFrom(...HOSTILE_TEXT), fc.string({ maxLength: 30 }), fc.integer().map(String)),
          { maxKeys: 4 },
        ),
        fc.oneof(
          { weight: 9, arbitrary: fc.constant(o.method) },
          { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
        ),
      )
      .map(([segs, query, method]) => {
        const p = `/${segs.map((s) => (o.segments.includes(s) ? s : encodeSegment(s))).join('/')}`;
        const qs = Object.entries(query)
          .map(([k, v]) => `${encodeSegment(k)}=${encodeSegment(v)}`)
          .join('&');
        return { method, path: qs ? `${p}?${qs}` : p };
      }),
  );
  const rawPath = fc
    .oneof(fc.constantFrom(...HOSTILE_TEXT), fc.string({ maxLength: 60 }))
    .map((s) => ({ method: 'GET', path: `/v1/${encodeSegment(s)}` }));
  const auth = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...target.tokens).map((t) => `Bearer ${t}`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'Bearer ',
        'Bearer garbage',
        'Basic YWRtaW46YWRtaW4=',
        'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4IiwidGVuYW50cyI6WyJhY21lIl19.',
        `Bearer ${'a'.repeat(9000)}`,
      ),
    },
    { weight: 1, arbitrary: headerText.map((t) => `Bearer ${t}`) },
  );
  const body = fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    {
      weight: 3,
      arbitrary: fc
        .record(
          {
            input: fc.jsonValue({ maxDepth: 3 }),
            name: fc.string(),
            value: fc.jsonValue({ maxDepth: 2 }),
            enabled: fc.oneof(fc.boolean(), fc.string()),
            url: fc.oneof(fc.webUrl(), fc.constantFrom(...HOSTILE_TEXT)),
            types: fc.array(fc.string(), { maxLength: 3 }),
            query: fc.string(),
            k: fc.oneof(fc.integer(), fc.string()),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
    },
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_BODIES) },
    { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
    // Rarely, a body past any limit the server keeps (the default body limit is 1 MB).
    { weight: 1, arbitrary: fc.constantFrom(2_000_000).map((n) => `{"input":"${'a'.repeat(n)}"}`) },
  );
  const headers = fc.record(
    {
      authorization: auth,
      'x-tenant-id': fc.oneof(fc.constantFrom(...target.tenants), headerText),
      'content-type': fc.constantFrom(...CONTENT_TYPES),
      'idempotency-key': headerText,
      accept: fc.constantFrom('application/json', 'text/event-stream', '*/*', 'text/html', ''),
      'last-event-id': headerText,
      'x-forwarded-for': fc.constantFrom('127.0.0.1', '10.0.0.1, 127.0.0.1', 'garbage'),
      'x-forwarded-proto': fc.constantFrom('https', 'gopher'),
      'if-none-match': headerText,
    },
    { requiredKeys: ['authorization'] },
  );
  return fc
    .tuple(fc.oneof({ weight: 19, arbitrary: path }, { weight: 1, arbitrary: rawPath }), headers, body)
    .map(([p, h, b]) => {
      const cleaned = Object.fromEntries(
        Object.entries(h).filter(([, v]) => v !== undefined && v !== ''),
      ) as Record<string, string>;
      const method = p.method;
      const sendsBody = b !== undefined && !['GET', 'HEAD'].includes(method);
      return { method, path: p.path, headers: cleaned, ...(sendsBody ? { body: b } : {}) };
    });
}

function describeRequest(r: FuzzRequest): FuzzFailure['request'] {
  const body = r.body === undefined ? undefined : String(r.body).slice(0, 300);
  return {
    method: r.method,
    path: r.path.slice(0, 300),
    headers: r.headers,
    ...(body === undefined ? {} : { body }),
  };
}

/**
 * Sends `runs` generated requests with `concurrency` in flight and counts what came back.
 * Streaming answers (SSE) are read only up to their first bytes.
 */
export async function fuzz(
  target: FuzzTarget,
  options: { runs: number; seed: number; concurrency?: number; onProgress?: (sent: number) => void },
): Promise<FuzzStats> {
  const ops = (await operations(target.base)).filter((o) => !o.segments.includes('openapi.json'));
  const arb = requestArbitrary(ops, target);
  const pool = new Pool(target.base, { connections: options.concurrency ?? 8, pipelining: 1 });
  const stats: FuzzStats = { sent: 0, statuses: {}, failures: [], unclear: [] };
  const batch = 500;
  try {
    for (let start = 0; start < options.runs; start += batch) {
      const requests = fc.sample(arb, {
        numRuns: Math.min(batch, options.runs - start),
        seed: options.seed + start,
      });
      let next = 0;
      const worker = async () => {
        while (next < requests.length) {
          const r = requests[next++]!;
          await send(pool, r, stats);
        }
      };
      await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
      options.onProgress?.(stats.sent);
    }
  } finally {
    await pool.close();
  }
  return stats;
}

async function send(pool: Pool, r: FuzzRequest, stats: FuzzStats): Promise<void> {
  stats.sent++;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 15_000);
  try {
    const res = await pool.request({
      method: r.method as 'GET',
      path: r.path,
      headers: r.headers,
      ...(r.body === undefined ? {} : { body: r.body }),
      signal: abort.signal,
    });
    const key = String(res.statusCode);
    stats.statuses[key] = (stats.statuses[key] ?? 0) + 1;
    const type = String(res.headers['content-type'] ?? '');
    let answer = '';
    if (type.startsWith('text/event-stream')) {
      // A stream stays open: its status is the answer.
      res.body.destroy();
    } else {
      answer = (await res.body.text()).slice(0, 500);
    }
    if (res.statusCode >= 500)
      stats.failures.push({ request: describeRequest(r), status: res.statusCode, answer });
    else if (res.statusCode >= 400 && r.method !== 'HEAD' && !type.startsWith('application/problem+json'))
      stats.unclear.push({ request: describeRequest(r), status: res.statusCode, answer });
  } catch (error) {
    stats.statuses['network error'] = (stats.statuses['network error'] ?? 0) + 1;
    stats.failures.push({ request: describeRequest(r), status: 'network error', answer: String(error) });
  } finally {
    clearTimeout(timer);
  }
}

/** The resident memory of a process, in MB (Linux). */
export async function rssMb(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

export interface FuzzServer {
  target: FuzzTarget;
  engine: LongRunning;
  stop(): Promise<void>;
}

const FUZZ_SECRET = 'fuzz-jwt-secret-0123456789abcdefghij';

/**
 * `atlas serve` on `databaseUrl` with the shipped catalogue, tenants `acme` and `other`, one
 * real run, and tokens to fuzz with: each tenant's, an admin's, and one signed by another key.
 */
export async function startFuzzServer(databaseUrl: string): Promise<FuzzServer> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-fuzz-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const client = new pg.Client(databaseUrl);
  await client.connect();
  const engine = startCli(
    ['serve'],
    cliEnv({
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      ATLAS_HOME: home,
      ATLAS_MANIFESTS: path.join(ROOT, 'manifests'),
      ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64'),
      ATLAS_JWT_SECRET: FUZZ_SECRET,
      LOG_LEVEL: 'warn',
    }),
  );
  const stop = async () => {
    await engine.stop('SIGTERM');
    await client.end();
    await fs.rm(home, { recursive: true, force: true });
  };
  try {
    await engine.waitFor(/Atlas is listening on/, 120_000);
    await client.query(
      `insert into tenants (id, name) values ('acme', 'Acme'), ('other', 'Other') on conflict do nothing`,
    );
    const token = (sub: string, tenants: string[], admin = false, secret = FUZZ_SECRET) =>
      mintToken({ secret, sub, tenants, admin, ttlSeconds: 86_400 });
    const tokens = [
      await token('fuzz', ['acme']),
      await token('fuzz-other', ['other']),
      await token('fuzz-admin', ['acme'], true),
      await token('fuzz-foreign', ['acme'], false, 'another-secret-0123456789abcdefghij'),
    ];
    // A real run, so that some generated paths name one that exists.
    const started = await fetch(`${base}/v1/workflows/WF-001/runs`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens[0]}`,
        'x-tenant-id': 'acme',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ input: { name: 'Ada' } }),
    });
    if (started.status !== 202) throw new Error(`starting WF-001 answered ${started.status}`);
    const run = ((await started.json()) as { id: string }).id;
    const target = {
      base,
      tokens,
      tenants: ['acme', 'other', 'nobody', ''],
      knownIds: ['WF-001', 'WF-010', 'acme', 'approval', run],
    };
    return { target, engine, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
