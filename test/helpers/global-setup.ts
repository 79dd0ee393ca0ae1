/**
 * Provisions PostgreSQL for the whole test run: DATABASE_URL when set, otherwise an
 * embedded server in a temporary directory that this run starts and stops itself. A
 * migrated template database is made once; every test file clones it (fast, isolated).
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
import { withDatabase } from './url.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    templateName: string;
  }
}

let embedded: EmbeddedPostgres | undefined;
let tempDir: string | undefined;
let adminUrl = '';
let templateName = '';

export async function setup(project: TestProject): Promise<void> {
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
  project.provide('adminUrl', adminUrl);
  project.provide('templateName', templateName);
}

export async function teardown(): Promise<void> {
  try {
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
