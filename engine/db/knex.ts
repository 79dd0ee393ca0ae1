import knexFactory, { type Knex } from 'knex';
import pg from 'pg';

export type { Knex };

// int8 (bigint) columns such as counters and graphile job ids fit in a JS number here.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface DbOptions {
  poolSize?: number;
  applicationName?: string;
}

/** One knex instance (one pool) per process. */
export function makeDb(url: string, opts: DbOptions = {}): Knex {
  return knexFactory({
    client: 'pg',
    connection: { connectionString: url, application_name: opts.applicationName ?? 'atlas' },
    pool: { min: 0, max: opts.poolSize ?? 10 },
    acquireConnectionTimeout: 10_000,
  });
}

/** One trivial round trip: throws what the driver throws when the database is unreachable. */
export async function ping(db: Knex): Promise<void> {
  await db.raw('select 1');
}

/** Makes lock waits of the rest of the transaction fail (55P03) after `ms`. */
export async function setLockTimeout(trx: Knex.Transaction, ms: number): Promise<void> {
  await trx.raw(`set local lock_timeout = ${Math.round(ms)}`);
}

interface PooledClient {
  acquireConnection(): Promise<pg.Client>;
  releaseConnection(connection: pg.Client): Promise<unknown>;
}

/**
 * One parameterised statement on a connection of knex's pool, without knex's query building
 * and result processing around it: for the hottest reads (the run view). The pool, its
 * limits and its handling of broken connections stay knex's.
 */
export async function pooledQuery<R>(db: Knex, text: string, values: unknown[]): Promise<R[]> {
  const client = db.client as unknown as PooledClient;
  const connection = await client.acquireConnection();
  try {
    return (await connection.query(text, values)).rows as R[];
  } finally {
    await client.releaseConnection(connection);
  }
}
