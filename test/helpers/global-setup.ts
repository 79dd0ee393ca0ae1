/**
 * Provisions PostgreSQL for the whole test run: DATABASE_URL when set, otherwise an
 * embedded server in a temporary directory that this run starts and stops itself. A
 * migrated template database is made once; every test file clones it (fast, isolated).
 *
 * Every vitest project runs this setup; the first provisions, the others share it. The
 * `pgbouncer` project's files reach their databases through PgBouncer (transaction mode),
 * with a direct URL beside it, as a deployment behind a pooler does.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { environment } from '../../engine/config.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../engine/db/embedded.ts';
import { makeDb } from '../../engine/db/knex.ts';
import { migrateUp } from '../../engine/db/migrate.ts';
import { type PgBouncer, pgbouncerBinary, startPgBouncer } from './pgbouncer.ts';
import { withDatabase } from './url.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    templateName: string;
    /** PgBouncer's URL for this project's databases, or '' to connect directly. */
    poolerUrl: string;
  }
}

/** The project whose files run through PgBouncer. */
export const POOLED_PROJECT = 'pgbouncer';

interface Provisioned {
  adminUrl: string;
  templateName: string;
  poolerUrl: string;
  /** Stops what `provision` started (closes over the provisioning module's state). */
  release(): Promise<void>;
}
interface Shared {
  users: number;
  ready: Promise<Provisioned>;
}
const SHARED = Symbol.for('atlas.test.database');
const registry = globalThis as { [SHARED]?: Shared };

let embedded: EmbeddedPostgres | undefined;
let tempDir: string | undefined;
let adminUrl = '';
let templateName = '';

export async function setup(project: TestProject): Promise<void> {
  registry[SHARED] ??= { users: 0, ready: provision() };
  const shared = registry[SHARED];
  shared.users++;
  const ready = await shared.ready;
  project.provide('adminUrl', ready.adminUrl);
  project.provide('templateName', ready.templateName);
  project.provide('poolerUrl', project.name === POOLED_PROJECT ? ready.poolerUrl : '');
}

export async function teardown(): Promise<void> {
  const shared = registry[SHARED];
  if (!shared || --shared.users > 0) return;
  delete registry[SHARED];
  await (await shared.ready).release();
}

let pooler: PgBouncer | undefined;

async function provision(): Promise<Provisioned> {
  const { DATABASE_URL } = environment();
  if (DATABASE_URL) {
    adminUrl = DATABASE_URL;
  } else {
    tempDir = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-test-'));
    await fs.chmod(tempDir, 0o755);
    // Durability is not under test here: trade it for speed.
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(tempDir, 'pg'),
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '400' },
    });
    adminUrl = embedded.url;
  }
  templateName = `atlas_tpl_${randomBytes(4).toString('hex')}`;
  await admin(`create database ${templateName}`);
  const url = withDatabase(adminUrl, templateName);
  const db = makeDb(url, { poolSize: 2 });
  try {
    await migrateUp(db, url);
  } finally {
    await db.destroy();
  }
  const binary = pgbouncerBinary();
  if (binary) pooler = await startPgBouncer(binary, adminUrl);
  else
    process.stderr.write(
      'PgBouncer is not installed (Debian package `pgbouncer`): the API, webhook and runtime tests connect directly instead of through a transaction-mode pooler\n',
    );
  return { adminUrl, templateName, poolerUrl: pooler?.url ?? '', release };
}

async function release(): Promise<void> {
  try {
    await pooler?.stop();
    if (templateName) await admin(`drop database if exists ${templateName} with (force)`);
    if (!embedded) await dropLeftovers();
  } finally {
    await embedded?.stop();
    if (tempDir) await fs.rm(tempDir, { recursive: true, force: true });
  }
}

/** On a shared server, drop this run's clones that a crashed file did not drop. */
async function dropLeftovers(): Promise<void> {
  const client = new pg.Client(adminUrl);
  await client.connect();
  try {
    const prefix = templateName.replace('atlas_tpl_', 'atlas_t_');
    const { rows } = await client.query<{ datname: string }>(
      'select datname from pg_database where starts_with(datname, $1)',
      [prefix],
    );
    for (const { datname } of rows) await client.query(`drop database if exists ${datname} with (force)`);
  } finally {
    await client.end();
  }
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client(adminUrl);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
