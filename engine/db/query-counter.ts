/**
 * Counts what one knex instance asks of PostgreSQL: round trips (each message the driver
 * sends and waits on), statements (a simple-protocol batch is one round trip of several) and
 * commits (transactions that ended committed, explicit `commit` or an implicit one).
 *
 * It wraps each connection's `query` the first time the pool hands it out; the benchmarks'
 * profiles and the round-trip budgets (`test/perf/`) read it. A `when` predicate, checked as
 * each query is sent (with its text), keeps only the queries of one piece of work (an
 * AsyncLocalStorage store, for example), so background sweeps sharing the pool are not counted.
 */
import type { Knex } from 'knex';

export interface QueryCounts {
  roundTrips: number;
  statements: number;
  commits: number;
}

export interface QueryCounter {
  counts(): QueryCounts;
  /** The text of every counted round trip, in order (what a failing budget prints). */
  texts(): string[];
  reset(): void;
  stop(): void;
}

interface PgConnection {
  query(...args: unknown[]): unknown;
  getTransactionStatus?(): string | null;
}

interface Listener {
  when(sql: string): boolean;
  record(sql: string, before: string | null, after: string | null, results: unknown): void;
}
type Callback = (err: unknown, result: unknown) => void;

const listeners = new WeakMap<object, Set<Listener>>();
const WRAPPED = Symbol('atlas.counted');

export function countQueries(db: Knex, when: (sql: string) => boolean = () => true): QueryCounter {
  const client = db.client as { acquireConnection(): Promise<PgConnection> } & object;
  let set = listeners.get(client);
  if (!set) {
    const all = new Set<Listener>();
    listeners.set(client, all);
    const acquire = client.acquireConnection.bind(client);
    client.acquireConnection = async () => wrap(await acquire(), all);
    set = all;
  }
  let counts: QueryCounts = { roundTrips: 0, statements: 0, commits: 0 };
  let texts: string[] = [];
  const listener: Listener = {
    when,
    record(sql, before, after, results) {
      const list = (Array.isArray(results) ? results : [results]) as Array<{ command?: string } | undefined>;
      counts.roundTrips += 1;
      counts.statements += list.length;
      const explicit = list.filter((r) => r?.command === 'COMMIT').length;
      // A round trip that starts and ends outside a transaction ran in one of its own.
      const implicit = before === 'I' && after === 'I' && !list.some((r) => r?.command === 'ROLLBACK');
      counts.commits += explicit > 0 ? explicit : implicit ? 1 : 0;
      texts.push(sql);
    },
  };
  set.add(listener);
  return {
    counts: () => ({ ...counts }),
    texts: () => [...texts],
    reset() {
      counts = { roundTrips: 0, statements: 0, commits: 0 };
      texts = [];
    },
    stop: () => set.delete(listener),
  };
}

function wrap(conn: PgConnection, set: Set<Listener>): PgConnection {
  const marked = conn as PgConnection & { [WRAPPED]?: true };
  if (marked[WRAPPED]) return conn;
  marked[WRAPPED] = true;
  const query = conn.query.bind(conn);
  conn.query = (...args: unknown[]) => {
    const first = args[0];
    const sql = typeof first === 'string' ? first : String((first as { text?: string }).text ?? '');
    const interested = [...set].filter((l) => l.when(sql));
    if (interested.length === 0) return query(...args);
    const before = conn.getTransactionStatus?.() ?? null;
    const done = (result: unknown) => {
      const after = conn.getTransactionStatus?.() ?? null;
      for (const l of interested) l.record(sql, before, after, result);
    };
    const last = args.at(-1);
    if (typeof last === 'function') {
      const callback = last as Callback;
      return query(...args.slice(0, -1), (err: unknown, result: unknown) => {
        done(err ? { command: 'ERROR' } : result);
        callback(err, result);
      });
    }
    const out = query(...args) as Promise<unknown>;
    return out.then((result) => {
      done(result);
      return result;
    });
  };
  return conn;
}
