import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { type Knex, makeDb } from '../../engine/db/knex.ts';
import { withDatabase } from './url.ts';

export interface TestDatabase {
  /**
   * Connection URL of this file's own database: through PgBouncer (transaction mode) in the
   * `pgbouncer` project, else direct.
   */
  url: string;
  /** A direct connection URL of the same database (for sessions: the queue, LISTEN, replication). */
  directUrl: string;
  name: string;
  db: Knex;
  drop(): Promise<void>;
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client(inject('adminUrl'));
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A database with a replication slot (the change feed's) cannot be dropped: drop its slots first. */
async function dropSlots(database: string): Promise<void> {
  const client = new pg.Client(inject('adminUrl'));
  await client.connect();
  try {
    for (let i = 0; i < 50; i++) {
      const { rows } = await client.query<{ slot_name: string; active_pid: number | null }>(
        'select slot_name, active_pid from pg_replication_slots where database = $1',
        [database],
      );
      if (rows.length === 0) return;
      for (const row of rows) {
        if (row.active_pid) await client.query('select pg_terminate_backend($1)', [row.active_pid]);
        else await client.query('select pg_drop_replication_slot($1)', [row.slot_name]).catch(() => {});
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await client.end();
  }
}

/** A fresh database cloned from the migrated template (`CREATE DATABASE ... TEMPLATE`). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = inject('templateName');
  const name = `${template.replace('atlas_tpl_', 'atlas_t_')}_${randomBytes(4).toString('hex')}`;
  await admin(`create database ${name} template ${template}`);
  const directUrl = withDatabase(inject('adminUrl'), name);
  const pooler = inject('poolerUrl');
  const url = pooler ? withDatabase(pooler, name) : directUrl;
  const db = makeDb(url, { poolSize: 5 });
  return {
    url,
    directUrl,
    name,
    db,
    async drop() {
      await db.destroy();
      await dropSlots(name);
      await admin(`drop database if exists ${name} with (force)`);
    },
  };
}

/** One database for the calling test file, created before its tests and dropped after. */
export function useTestDatabase(): TestDatabase {
  let current: TestDatabase | undefined;
  beforeAll(async () => {
    current = await createTestDatabase();
  });
  afterAll(async () => {
    await current?.drop();
  });
  const get = (): TestDatabase => {
    if (!current) throw new Error('useTestDatabase(): the database exists only inside tests and hooks');
    return current;
  };
  return {
    get url() {
      return get().url;
    },
    get directUrl() {
      return get().directUrl;
    },
    get name() {
      return get().name;
    },
    get db() {
      return get().db;
    },
    drop: () => get().drop(),
  };
}
