import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { pdfBytes, startFilesApi } from './harness.ts';

const t = useTestDatabase();
let home: string;
const KEY = Buffer.alloc(32, 9).toString('base64');

beforeAll(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-files-cli-'));
  await t.db('tenants').insert({ id: 'acme', name: 'Acme' });
});

afterAll(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

describe('atlas files', () => {
  it('puts, lists, links and removes a file, with audit entries', async () => {
    const env = cliEnv({ DATABASE_URL: t.url, ATLAS_HOME: home, ATLAS_ENCRYPTION_KEY: KEY });
    const file = path.join(home, 'report.pdf');
    await fs.writeFile(file, pdfBytes('cli'));

    const put = await runCli(['files', 'put', file, '--tenant', 'acme'], env);
    expect(put.code, put.stderr).toBe(0);
    const [id, size, type, name] = put.stdout.trim().split(/\s+/);
    expect([Number(size), type, name]).toEqual([pdfBytes('cli').length, 'application/pdf', 'report.pdf']);

    const list = await runCli(['files', 'list', '--tenant', 'acme'], env);
    expect(list.stdout).toContain(`${id}`);
    expect(list.stderr).toContain('1 of 500 files');

    const url = await runCli(['files', 'url', id!, '--tenant', 'acme', '--ttl', '2h'], env);
    expect(url.code, url.stderr).toBe(0);
    const signed = new URL(url.stdout.trim());
    // The API of the same installation (same home and key) serves it without a token.
    const api = await startFilesApi(t.db, { ATLAS_HOME: home, ATLAS_ENCRYPTION_KEY: KEY });
    try {
      const res = await fetch(`${api.url}${signed.pathname}${signed.search}`);
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(pdfBytes('cli'))).toBe(true);
    } finally {
      await api.close();
    }

    const rm = await runCli(['files', 'rm', id!, '--tenant', 'acme'], env);
    expect([rm.code, rm.stdout.trim()]).toEqual([0, `Deleted ${id}.`]);
    const again = await runCli(['files', 'rm', id!, '--tenant', 'acme'], env);
    expect([again.code, again.stderr.trim()]).toEqual([1, `atlas files: There is no file ${id}`]);
    const audit = await t
      .db('audit_log')
      .where({ tenant_id: 'acme', entity_type: 'file' })
      .whereIn('action', ['files.put', 'files.delete'])
      .orderBy('id');
    expect(audit.map((r) => [r.action, r.entity_id, r.actor.startsWith('cli:')])).toEqual([
      ['files.put', id, true],
      ['files.delete', id, true],
    ]);
  });

  it('answers bad input with one sentence', async () => {
    const env = cliEnv({ DATABASE_URL: t.url, ATLAS_HOME: home, ATLAS_ENCRYPTION_KEY: KEY });
    expect((await runCli(['files', 'list'], env)).code).toBe(2);
    const ghost = await runCli(['files', 'list', '--tenant', 'ghost'], env);
    expect([ghost.code, ghost.stderr.trim()]).toEqual([
      1,
      'atlas files: there is no tenant "ghost"; `atlas tenants list` shows them',
    ]);
    const missing = await runCli(['files', 'put', path.join(home, 'nope.txt'), '--tenant', 'acme'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/nope\.txt is not a readable file$/);
    const badName = await runCli(
      ['files', 'put', path.join(home, 'report.pdf'), '--tenant', 'acme', '--name', '../x'],
      env,
    );
    expect([badName.code, badName.stderr.trim()]).toEqual([
      1,
      'atlas files: The file name contains a path separator',
    ]);
  });
});
