import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { KbIngestOutput, KbSearchOutput } from '../connector-sdk/index.ts';
import { recordAudit } from '../db/audit.ts';
import { jobOutcome } from '../db/jobs.ts';
import { ingestedFiles } from '../db/kb-documents.ts';
import type { Knex } from '../db/knex.ts';
import { withTenant } from '../db/rls.ts';
import { getTenant } from '../db/tenants.ts';
import type { FileService } from '../files/service.ts';
import { type Runtime, RuntimeError } from '../runtime/index.ts';
import { CliError, type CliIO, type Command, UsageError } from './command.ts';
import { fileAuditEntry } from './files.ts';
import { parseCommandArgs } from './main.ts';
import { openEngine } from './services.ts';

const USAGE = `Usage: atlas kb ingest <files or directories...> --tenant <id> [--timeout 10m]
       atlas kb search "<query>" --tenant <id> [--k 5] [--mode hybrid|text|vector] [--format json]

ingest  adds files to the tenant's knowledge base (Markdown, text, HTML, PDF, DOCX, JSON),
        walking directories; files unchanged since their last ingestion are skipped. Each file
        is uploaded to the tenant's files, then ingested by a KB_INGEST job; with no worker
        running, this process runs the queue itself.
search  prints the chunks that best answer the query, with their document, score and rank.`;

/** The extensions a directory walk picks up. */
const EXTENSIONS = new Set(['.md', '.markdown', '.mdx', '.txt', '.html', '.htm', '.pdf', '.docx', '.json']);

export const kb: Command = {
  name: 'kb',
  summary: 'Ingest files into a tenant’s knowledge base, or search it',
  usage: USAGE,
  async run(args, io) {
    const [action, ...rest] = args;
    const { values, positionals } = parseCommandArgs(
      rest,
      {
        tenant: { type: 'string' },
        timeout: { type: 'string' },
        k: { type: 'string' },
        mode: { type: 'string' },
        format: { type: 'string' },
      },
      true,
    );
    if (!values.tenant) throw new UsageError('--tenant is required');
    if (action === 'ingest') {
      if (positionals.length === 0) throw new UsageError('name at least one file or directory');
      return ingest(io, positionals, values.tenant, values.timeout ? parseTimeout(values.timeout) : 600_000);
    }
    if (action === 'search') {
      if (positionals.length !== 1) throw new UsageError('give the query as one argument (quote it)');
      const k = values.k === undefined ? 5 : Number(values.k);
      if (!Number.isInteger(k) || k < 1 || k > 50) throw new UsageError('--k is a whole number from 1 to 50');
      if (values.mode && !['hybrid', 'text', 'vector'].includes(values.mode))
        throw new UsageError('--mode is hybrid, text or vector');
      return search(
        io,
        values.tenant,
        { query: positionals[0]!, k, ...(values.mode ? { mode: values.mode } : {}) },
        values.format === 'json',
      );
    }
    throw new UsageError('say ingest or search');
  },
};

function parseTimeout(text: string): number {
  const m = /^(\d+)(s|m)?$/.exec(text);
  if (!m) throw new UsageError(`--timeout must be a duration such as 90s or 10m (got "${text}")`);
  return Number(m[1]) * (m[2] === 'm' ? 60_000 : 1000);
}

/** The files to ingest: files as named, directories walked (hidden entries and node_modules skipped). */
async function collect(io: CliIO, inputs: string[]): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string) => {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile() && EXTENSIONS.has(path.extname(e.name).toLowerCase())) files.push(full);
    }
  };
  for (const input of inputs) {
    const full = path.resolve(io.cwd, input);
    const stat = await fs.stat(full).catch(() => undefined);
    if (!stat) throw new CliError(`${input} does not exist`);
    if (stat.isDirectory()) await walk(full);
    else files.push(full);
  }
  return [...new Set(files)];
}

/** A file's identity in the knowledge base: its path relative to the working directory. */
function keyOf(io: CliIO, file: string): string {
  const relative = path.relative(io.cwd, file);
  const shown = relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
  return `path:${shown.split(path.sep).join('/')}`;
}

interface Opened {
  db: Knex;
  runtime: Runtime;
  files: FileService;
  close(): Promise<void>;
}

async function open(io: CliIO, runQueue: boolean): Promise<Opened> {
  const { engine, database, close } = await openEngine(io, { worker: runQueue });
  return { db: database.db, runtime: engine.runtime, files: engine.services.files, close };
}

async function sha256Of(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

interface Outcome {
  status: 'created' | 'updated' | 'unchanged' | 'skipped' | 'failed';
  detail: string;
}

async function ingest(io: CliIO, inputs: string[], tenantId: string, timeoutMs: number): Promise<number> {
  const files = await collect(io, inputs);
  if (files.length === 0) throw new CliError('no files to ingest (Markdown, text, HTML, PDF, DOCX or JSON)');
  const { db, runtime, files: store, close } = await open(io, true);
  try {
    if (!(await getTenant(db, tenantId)))
      throw new CliError(`there is no tenant ${tenantId}: add it with \`atlas tenants add ${tenantId}\``);
    const known = await withTenant(db, tenantId, (trx) => ingestedFiles(trx, tenantId));
    const deadline = Date.now() + timeoutMs;
    const counts: Record<Outcome['status'], number> = {
      created: 0,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      failed: 0,
    };
    let done = 0;
    const removeFile = (id: string) =>
      store
        .remove(tenantId, id, (change) =>
          db.transaction(async (trx) => {
            await change(trx);
            await recordAudit(trx, fileAuditEntry(tenantId, 'files.delete', id, {}));
          }),
        )
        .catch(() => undefined); // already gone
    const one = async (file: string): Promise<Outcome> => {
      const key = keyOf(io, file);
      const { sha256, size } = await sha256Of(file);
      const previous = known.get(key);
      if (previous?.sha256 === sha256)
        return { status: 'skipped', detail: 'unchanged since the last ingestion' };
      const name = key.slice('path:'.length);
      // The bytes go up as a stored file, streamed; the job carries only its id.
      const stored = await store.upload(tenantId, `cli:${os.userInfo().username}`, {
        name: path.basename(file),
        body: createReadStream(file),
        declaredSize: size,
        commit: (finish) =>
          db.transaction(async (trx) => {
            const r = await finish(trx);
            await recordAudit(
              trx,
              fileAuditEntry(tenantId, 'files.put', r.id, { name: r.name, size: r.size }),
            );
            return r;
          }),
      });
      const outcome = await follow(stored.id, key, name, sha256, size);
      // The document keeps the file it was read from: a failed ingestion's upload goes, and so
      // does the file of the version it replaced. A job still running at the timeout keeps its file.
      if (outcome.status === 'failed' && outcome.final) await removeFile(stored.id);
      else if (outcome.status !== 'failed' && previous?.fileId && previous.fileId !== stored.id)
        await removeFile(previous.fileId);
      return outcome;
    };
    const follow = async (
      fileId: string,
      key: string,
      name: string,
      sha256: string,
      size: number,
    ): Promise<Outcome & { final?: boolean }> => {
      const job = await runtime.enqueueJob({
        tenantId,
        type: 'KB_INGEST',
        actor: 'cli',
        payload: {
          fileId,
          name: path.basename(name),
          key,
          metadata: { file: { path: name, sha256, bytes: size, id: fileId } },
        },
      });
      for (;;) {
        const now = await jobOutcome(db, tenantId, job.id);
        if (now?.status === 'succeeded' && now.result) {
          const out = now.result as KbIngestOutput;
          return {
            status: out.status,
            detail: `${out.chunks} chunks, ${out.tokens} tokens${out.embedded ? ', embedded' : ''}`,
          };
        }
        if (now?.status === 'failed' || now?.status === 'cancelled')
          return {
            status: 'failed',
            final: true,
            detail: (now.last_error as { message?: string } | null)?.message ?? now.status,
          };
        if (Date.now() > deadline)
          return { status: 'failed', detail: `still ${now?.status} at the timeout (job ${job.id})` };
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    // A few files in flight at once: each is a job the queue runs in parallel.
    const queue = [...files];
    const width = String(files.length).length;
    await Promise.all(
      Array.from({ length: Math.min(4, files.length) }, async () => {
        for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
          let outcome: Outcome;
          try {
            outcome = await one(file);
          } catch (err) {
            const message = err instanceof RuntimeError ? err.message : (err as Error).message;
            outcome = { status: 'failed', detail: message };
          }
          counts[outcome.status]++;
          done++;
          io.out(
            `[${String(done).padStart(width)}/${files.length}] ${keyOf(io, file).slice(5)}: ${outcome.status} (${outcome.detail})`,
          );
        }
      }),
    );
    io.out(
      `${files.length} files: ${counts.created} created, ${counts.updated} updated, ${counts.unchanged + counts.skipped} unchanged, ${counts.failed} failed.`,
    );
    return counts.failed > 0 ? 1 : 0;
  } finally {
    await close();
  }
}

async function search(
  io: CliIO,
  tenantId: string,
  input: { query: string; k: number; mode?: string },
  json: boolean,
): Promise<number> {
  const { runtime, close } = await open(io, false);
  try {
    const result = await runtime.callAction(tenantId, 'kb.search', input);
    if (!result.ok) throw new CliError(`the search failed: ${result.failure.message}`);
    const out = result.output as KbSearchOutput;
    if (json) {
      io.out(JSON.stringify(out, null, 2));
      return 0;
    }
    if (out.results.length === 0) io.out(`No chunk matches (${out.mode} search).`);
    for (const hit of out.results) {
      const title = hit.document.title ?? hit.document.source;
      io.out(`${hit.rank}. ${title} [${hit.document.source}] chunk ${hit.ordinal}, score ${hit.score}`);
      const text = hit.text.replace(/\s+/g, ' ').trim();
      io.out(`   ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`);
    }
    return 0;
  } finally {
    await close();
  }
}
