/**
 * Chaos: `atlas serve` and three `atlas worker` processes on one PostgreSQL of their own, many
 * runs of a workflow whose steps (one of them a loop) deliver signed webhooks to a fake
 * provider through the hub. The fake injects faults (5xx, 429 with Retry-After, connection
 * resets after doing the work, hangs past the step timeout after doing the work), honours
 * idempotency keys (the `webhook-id`) like a real provider, and counts effects per (run,
 * step, item) whatever key a request carries. A monkey SIGKILLs a random worker every few
 * seconds and starts it again; PostgreSQL itself is restarted once mid-run.
 * Used by test/faults/chaos.test.ts (CI size) and bench/chaos.ts (`npm run chaos`).
 */
import fs from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { mintToken } from '../../engine/auth/mint.ts';
import { freePort, startEmbeddedPostgres } from '../../engine/db/embedded.ts';
import { cliEnv, type LongRunning, startCli } from '../helpers/cli.ts';

const JWT_SECRET = 'chaos-jwt-secret-0123456789abcdefghij';
const HOOK_SECRET = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;

const WORKFLOW = `apiVersion: atlas/v1
kind: Workflow
id: WF-901
name: Chaos receiver
description: Three deliveries and a loop of three to a provider that fails often.
trigger: { type: manual }
input:
  type: object
  required: [n, url, items]
  properties: { n: { type: integer }, url: { type: string }, items: { type: array, items: { type: integer } } }
defaults: { timeout: 2s, retry: { maxAttempts: 12, backoff: { initial: 200ms, max: 2s } } }
steps:
  - id: first
    uses: webhook.send
    with: { url: "{{ input.url }}", type: chaos.first, secret: CHAOS_HOOK_SECRET, data: { n: "{{ input.n }}", step: first } }
  - id: items
    uses: webhook.send
    forEach: "{{ input.items }}"
    concurrency: 3
    with: { url: "{{ input.url }}", type: chaos.item, secret: CHAOS_HOOK_SECRET, data: { n: "{{ input.n }}", step: items, item: "{{ item }}" } }
  - id: last
    uses: webhook.send
    with: { url: "{{ input.url }}", type: chaos.last, secret: CHAOS_HOOK_SECRET, data: { n: "{{ input.n }}", step: last } }
`;

export interface ChaosOptions {
  runs: number;
  workers: number;
  /** Seconds between kills: a random value in [min, max]. */
  killEvery: [number, number];
  /** Stop killing after this many (the CI size kills twice); unbounded when absent. */
  maxKills?: number;
  restartDatabase: boolean;
  /**
   * Restart PostgreSQL once this many runs are active (started, not terminal), or when every
   * run was started; by default once half of them were started.
   */
  restartWhenActive?: number;
  /**
   * The fake provider answers this much later until PostgreSQL was restarted and, when
   * `maxKills` bounds the kills, until they are done (longer runs: more of them active at
   * once), then at once.
   */
  providerLatencyMs?: number;
  /** Give up waiting for terminal states after this long. */
  timeoutSeconds: number;
  log?: (line: string) => void;
}

export interface ChaosResult {
  runs: number;
  byStatus: Record<string, number>;
  lost: number;
  duplicatedEffects: number;
  effects: number;
  requests: number;
  faults: Record<string, number>;
  failedWithoutError: number;
  /** Failed runs by error kind, code and the start of the message. */
  failedKinds: Record<string, number>;
  /** The longest a run start waited for the API to accept it (across the database restart). */
  longestStartSeconds: number;
  kills: number;
  /** Seconds from a kill until the queue made progress again. */
  recovery: { p50: number; max: number };
  databaseRestartSeconds: number | null;
  /** Seconds from stopping PostgreSQL until the provider saw a new effect. */
  databaseRecoverySeconds: number | null;
  /** Runs started and not yet terminal when PostgreSQL was stopped. */
  activeAtRestart: number | null;
  seconds: number;
  /** Log lines of the engine processes that say a part of them gave up (for the report). */
  diagnostics: string[];
}

function fakeProvider(initialLatencyMs: number) {
  let latencyMs = initialLatencyMs;
  const effects = new Map<string, number>(); // (n, step, item) → effects
  const done = new Set<string>(); // webhook-ids whose effect happened
  const faults: Record<string, number> = { ok: 0, '503': 0, '429': 0, reset: 0, hang: 0, replay: 0 };
  let requests = 0;
  let lastEffectAt = Date.now();
  const held = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => setTimeout(answer, latencyMs));
    const answer = () => {
      requests++;
      const key = String(req.headers['webhook-id'] ?? '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        data: { n: number; step: string; item?: number };
      };
      const identity = `${body.data.n}:${body.data.step}:${body.data.item ?? ''}`;
      const roll = Math.random();
      if (roll < 0.1) {
        faults['503']!++;
        res.writeHead(503).end();
        return;
      }
      if (roll < 0.15) {
        faults['429']!++;
        res.writeHead(429, { 'retry-after': '1' }).end();
        return;
      }
      // The work happens once per key; a repeated key answers as the first time did.
      if (done.has(key)) faults['replay']!++;
      else {
        done.add(key);
        effects.set(identity, (effects.get(identity) ?? 0) + 1);
        lastEffectAt = Date.now();
      }
      if (roll < 0.17) {
        faults['reset']!++;
        req.socket.destroy();
        return;
      }
      if (roll < 0.18) {
        faults['hang']!++;
        held.add(res);
        setTimeout(() => {
          held.delete(res);
          res.destroy();
        }, 5_000);
        return;
      }
      faults['ok']!++;
      res.writeHead(204).end();
    };
  });
  return {
    server,
    effects,
    faults,
    requests: () => requests,
    answerAtOnce: () => {
      latencyMs = 0;
    },
    lastEffectAt: () => lastEffectAt,
    close: async () => {
      for (const r of held) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function chaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => {});
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-chaos-'));
  await fs.chmod(home, 0o755);
  const manifests = path.join(home, 'manifests');
  await fs.mkdir(path.join(manifests, 'workflows'), { recursive: true });
  await fs.writeFile(path.join(manifests, 'workflows/WF-901-chaos.yaml'), WORKFLOW);
  const dataDir = path.join(home, 'pg');
  const pgPort = await freePort();
  let database = await startEmbeddedPostgres({ dataDir, port: pgPort });
  const fake = fakeProvider(options.providerLatencyMs ?? 0);
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  const fakeUrl = `http://127.0.0.1:${(fake.server.address() as { port: number }).port}/hooks`;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = cliEnv({
    DATABASE_URL: database.url,
    PORT: String(port),
    ATLAS_HOME: home,
    ATLAS_MANIFESTS: manifests,
    ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64'),
    ATLAS_JWT_SECRET: JWT_SECRET,
    ATLAS_OUTBOUND_ALLOWLIST: '127.0.0.1',
    LOG_LEVEL: 'info',
  });
  const processes: LongRunning[] = [];
  const workers: (LongRunning | undefined)[] = [];
  const startWorker = async (i: number) => {
    const w = startCli(['worker'], env);
    processes.push(w);
    await w.waitFor(/worker|listening|ready/i, 120_000).catch(() => {});
    workers[i] = w;
  };
  const began = Date.now();
  let kills = 0;
  const recoveries: number[] = [];
  let databaseRestartSeconds: number | null = null;
  let activeAtRestart: number | null = null;
  let databaseRecoverySeconds: number | null = null;
  let stuck: string[] = [];
  let stopMonkey = false;
  try {
    const api = startCli(['serve'], env);
    processes.push(api);
    await api.waitFor(/Atlas is listening on/, 120_000);
    await Promise.all(Array.from({ length: options.workers }, (_, i) => startWorker(i)));
    const admin = new pg.Client(database.url);
    await admin.connect();
    await admin.query(`insert into tenants (id, name) values ('acme', 'Acme') on conflict do nothing`);
    await admin.end();
    const token = await mintToken({
      secret: JWT_SECRET,
      sub: 'chaos',
      tenants: ['acme'],
      ttlSeconds: 86_400,
    });
    const headers = {
      authorization: `Bearer ${token}`,
      'x-tenant-id': 'acme',
      'content-type': 'application/json',
    };
    const put = await fetch(`${base}/v1/secrets/CHAOS_HOOK_SECRET`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ value: HOOK_SECRET }),
    });
    if (!put.ok) throw new Error(`PUT secret answered ${put.status}`);

    // The monkey: a random worker SIGKILLed every few seconds, started again at once.
    const monkey = (async () => {
      while (!stopMonkey && kills < (options.maxKills ?? Number.POSITIVE_INFINITY)) {
        const [min, max] = options.killEvery;
        await new Promise((r) => setTimeout(r, (min + Math.random() * (max - min)) * 1000));
        if (stopMonkey) break;
        const i = Math.floor(Math.random() * options.workers);
        const victim = workers[i];
        if (!victim) continue;
        workers[i] = undefined;
        kills++;
        const killedAt = Date.now();
        await victim.stop('SIGKILL');
        log(`killed worker ${i}`);
        void startWorker(i);
        // Recovery: the first new effect at the provider after the kill.
        void (async () => {
          while (fake.lastEffectAt() <= killedAt && !stopMonkey) await new Promise((r) => setTimeout(r, 50));
          if (fake.lastEffectAt() > killedAt) recoveries.push((fake.lastEffectAt() - killedAt) / 1000);
        })();
      }
    })();

    // The runs, started through the API; a run answered 202 must reach a terminal state.
    const ids: string[] = [];
    let next = 0;
    let longestRefusal = 0;
    const restartAt = options.restartWhenActive === undefined ? Math.floor(options.runs / 2) : options.runs;
    const triggerOne = async (n: number) => {
      let last = '';
      const since = Date.now();
      while (Date.now() - since < 120_000) {
        try {
          const res = await fetch(`${base}/v1/workflows/WF-901/runs`, {
            method: 'POST',
            headers: { ...headers, 'idempotency-key': `chaos-${n}` },
            body: JSON.stringify({ input: { n, url: fakeUrl, items: [1, 2, 3] } }),
          });
          if (res.status === 202 || res.status === 200) {
            ids.push(((await res.json()) as { id: string }).id);
            longestRefusal = Math.max(longestRefusal, (Date.now() - since) / 1000);
            return;
          }
          last = `${res.status} ${(await res.text()).slice(0, 300)}`;
        } catch (error) {
          // The database restart makes the API answer 503 or drop the connection for a moment.
          last = String(error);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(
        `run ${n} could not be started; the last answer: ${last}\n${processes[0]?.output().slice(-3000)}`,
      );
    };
    const restart = (async () => {
      if (!options.restartDatabase) return;
      const counter = new pg.Client(database.url);
      await counter.connect();
      const active = async () => {
        const { rows } = await counter.query<{ n: string }>(
          `select count(*) as n from workflow_runs where status not in ('succeeded', 'failed', 'cancelled')`,
        );
        return Number(rows[0]!.n);
      };
      const enough = options.restartWhenActive ?? Number.POSITIVE_INFINITY;
      while (next < restartAt && (await active()) < enough) await new Promise((r) => setTimeout(r, 50));
      activeAtRestart = await active();
      await counter.end();
      log(`restarting PostgreSQL with ${activeAtRestart} runs active`);
      const t0 = Date.now();
      await database.stop();
      database = await startEmbeddedPostgres({ dataDir, port: pgPort });
      databaseRestartSeconds = (Date.now() - t0) / 1000;
      const back = Date.now();
      void (async () => {
        while (fake.lastEffectAt() <= back && !stopMonkey) await new Promise((r) => setTimeout(r, 50));
        if (fake.lastEffectAt() > back) databaseRecoverySeconds = (fake.lastEffectAt() - t0) / 1000;
      })();
      // With a bounded number of kills, the provider stays slow until they are done, so that
      // runs are still in flight when each worker dies, however fast the rest goes.
      if (options.maxKills !== undefined) await monkey;
      fake.answerAtOnce();
    })();
    await Promise.all([
      ...Array.from({ length: 8 }, async () => {
        while (next < options.runs) await triggerOne(next++);
      }),
      restart,
    ]);
    log(`${ids.length} runs started`);

    // Wait until every run is terminal (or the time is up).
    const deadline = began + options.timeoutSeconds * 1000;
    const byStatus: Record<string, number> = {};
    let failedWithoutError = 0;
    const failedKinds: Record<string, number> = {};
    for (;;) {
      const client = new pg.Client(database.url);
      try {
        await client.connect();
        const counts = await client.query<{ status: string; n: string }>(
          `select status, count(*) as n from workflow_runs where id = any($1) group by status`,
          [ids],
        );
        for (const k of Object.keys(byStatus)) delete byStatus[k];
        for (const r of counts.rows) byStatus[r.status] = Number(r.n);
        const open = counts.rows
          .filter((r) => !['succeeded', 'failed', 'cancelled'].includes(r.status))
          .reduce((a, r) => a + Number(r.n), 0);
        if (open === 0 || Date.now() > deadline) {
          const bare = await client.query<{ n: string }>(
            `select count(*) as n from workflow_runs where id = any($1) and status = 'failed' and error is null`,
            [ids],
          );
          failedWithoutError = Number(bare.rows[0]!.n);
          const kinds = await client.query<{ kind: string; n: string }>(
            `select concat_ws(': ', error->>'kind', error->>'code', left(error->>'message', 80)) as kind, count(*) as n from workflow_runs
              where id = any($1) and status = 'failed' group by 1`,
            [ids],
          );
          for (const k of kinds.rows) failedKinds[k.kind] = Number(k.n);
          stuck = await describeOpenRuns(client, ids);
          break;
        }
      } catch {
        // The database may be restarting.
      } finally {
        await client.end().catch(() => {});
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    stopMonkey = true;
    await monkey;
    const terminal = (byStatus['succeeded'] ?? 0) + (byStatus['failed'] ?? 0) + (byStatus['cancelled'] ?? 0);
    const sorted = [...recoveries].sort((a, b) => a - b);
    return {
      runs: ids.length,
      byStatus: { ...byStatus },
      lost: ids.length - terminal,
      duplicatedEffects: [...fake.effects.values()].filter((n) => n > 1).length,
      effects: [...fake.effects.values()].reduce((a, n) => a + n, 0),
      requests: fake.requests(),
      faults: { ...fake.faults },
      failedWithoutError,
      failedKinds,
      longestStartSeconds: longestRefusal,
      kills,
      recovery: {
        p50: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
        max: sorted.at(-1) ?? Number.NaN,
      },
      databaseRestartSeconds,
      activeAtRestart,
      databaseRecoverySeconds,
      seconds: (Date.now() - began) / 1000,
      diagnostics: [
        ...stuck,
        ...processes
          .flatMap((p) =>
            p
              .output()
              .split('\n')
              .map((line) => `[${p.child.pid}] ${line}`),
          )
          .filter((line) =>
            /Could not|aborting|inconsistent|unhandled|exited|unasked|started again|could not start/i.test(
              line,
            ),
          )
          .map((line) => line.slice(0, 400))
          .slice(0, 20),
      ],
    };
  } finally {
    stopMonkey = true;
    await Promise.all(processes.map((p) => p.stop('SIGKILL').catch(() => null)));
    await fake.close();
    await database.stop();
    await fs.rm(home, { recursive: true, force: true });
  }
}

/** For the report: where up to five runs that did not end stand (lease, queue job, last attempts). */
async function describeOpenRuns(client: pg.Client, ids: string[]): Promise<string[]> {
  const { rows } = await client.query(
    `select r.id, r.status, r.lease_owner, r.lease_expires_at > now() as leased, r.lease_epoch,
            j.locked_by, j.attempts, j.run_at, j.last_error,
            (select json_agg(json_build_array(s.step_id, s.status, s.worker) order by s.id)
               from step_runs s where s.run_id = r.id) as steps
       from workflow_runs r left join graphile_worker._private_jobs j on j.key = 'run:' || r.id
      where r.id = any($1) and r.status not in ('succeeded', 'failed', 'cancelled')
      limit 5`,
    [ids],
  );
  return rows.map((row) => `open run: ${JSON.stringify(row)}`);
}
