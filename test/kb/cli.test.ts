import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/db.ts';
import { makeDocx, makePdf } from './fixtures.ts';

const database = useTestDatabase();
let docs: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  docs = await fs.mkdtemp(path.join(os.tmpdir(), 'atlas-kb-docs-'));
  await fs.mkdir(path.join(docs, 'policies'));
  await fs.mkdir(path.join(docs, '.git'));
  await fs.writeFile(
    path.join(docs, 'policies/refunds.md'),
    '# Refund policy\n\nRefunds are paid back to the original card within five working days.\n',
  );
  await fs.writeFile(
    path.join(docs, 'travel.pdf'),
    makePdf([['Travel policy', 'Trains are booked in second class for trips under four hours.']]),
  );
  await fs.writeFile(
    path.join(docs, 'onboarding.docx'),
    makeDocx(['# Onboarding', 'New staff receive a laptop and a badge on their first morning.']),
  );
  await fs.writeFile(path.join(docs, 'broken.txt'), Buffer.from([0x68, 0xc3, 0x28, 0xff]));
  await fs.writeFile(path.join(docs, 'picture.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  await fs.writeFile(path.join(docs, '.git/notes.md'), '# hidden\n');
  await database.db('tenants').insert({ id: 'demo', name: 'Demo' });
  env = cliEnv({ DATABASE_URL: database.url, ATLAS_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64') });
});

afterAll(async () => {
  await fs.rm(docs, { recursive: true, force: true });
});

describe('atlas kb', () => {
  it('ingests a folder of Markdown, PDF and DOCX files, with progress, a summary and each failure’s reason', async () => {
    const r = await runCli(['kb', 'ingest', docs, '--tenant', 'demo'], env, 60_000);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    const byFile = Object.fromEntries(
      lines.slice(0, 4).map((l) => {
        const m = /^\[\d\/4\] .*\/([^/]+): (\w+) \((.*)\)$/.exec(l)!;
        return [m[1], [m[2], m[3]]];
      }),
    );
    expect(byFile).toEqual({
      'refunds.md': ['created', '1 chunks, 18 tokens'],
      'travel.pdf': ['created', expect.stringMatching(/^1 chunks/)],
      'onboarding.docx': ['created', expect.stringMatching(/^1 chunks/)],
      'broken.txt': ['failed', 'broken.txt: the document is not valid UTF-8 text'],
    });
    expect(lines[4]).toBe('4 files: 3 created, 0 updated, 0 unchanged, 1 failed.');
    expect(r.code).toBe(1);
    // Each file went up as a stored file; the jobs carry its id, never its bytes.
    const payloads = (await database
      .db('jobs')
      .where({ tenant_id: 'demo', type: 'KB_INGEST' })
      .pluck('payload')) as Array<Record<string, unknown>>;
    expect(payloads).toHaveLength(4);
    for (const p of payloads) {
      expect(p).not.toHaveProperty('data');
      expect(p.fileId).toMatch(/^[0-9a-f-]{36}$/);
    }
    // The failed file's upload is removed; the ingested ones stay, named by the documents.
    const stored = await database.db('files').where({ tenant_id: 'demo' }).whereNull('deleted_at');
    expect(stored.map((f) => f.name).sort()).toEqual(['onboarding.docx', 'refunds.md', 'travel.pdf']);
    const documents = await database.db('kb_documents').where({ tenant_id: 'demo', status: 'ready' });
    expect(documents.map((d) => d.metadata.file.id).sort()).toEqual(stored.map((f) => f.id).sort());
  });

  it('skips unchanged files on the next run and re-ingests a changed one', async () => {
    await fs.writeFile(
      path.join(docs, 'policies/refunds.md'),
      '# Refund policy\n\nRefunds are paid back to the original card within ten working days.\n',
    );
    await fs.rm(path.join(docs, 'broken.txt'));
    const r = await runCli(['kb', 'ingest', docs, '--tenant', 'demo'], env, 60_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/onboarding\.docx: skipped \(unchanged since the last ingestion\)/);
    expect(r.stdout).toMatch(/refunds\.md: updated/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('3 files: 0 created, 1 updated, 2 unchanged, 0 failed.');
    // The changed file's new upload replaced its previous one.
    const stored = await database.db('files').where({ tenant_id: 'demo' }).whereNull('deleted_at');
    expect(stored.map((f) => f.name).sort()).toEqual(['onboarding.docx', 'refunds.md', 'travel.pdf']);
  });

  it('searches and prints the chunk that answers', async () => {
    const r = await runCli(
      ['kb', 'search', 'which class are trains booked in', '--tenant', 'demo', '--k', '1'],
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^1\. travel\.pdf \[path:.*travel\.pdf\] chunk 0, score [\d.]+\n {3}Travel policy Trains are booked in second class/,
    );
  });

  it('answers bad usage with exit code 2', async () => {
    const r = await runCli(['kb', 'search', 'x'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--tenant is required/);
  });
});
