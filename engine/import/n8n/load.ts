// Reads n8n export files and directories into workflows, with one error per file it cannot read.
import fs from 'node:fs/promises';
import path from 'node:path';
import { ExportError, exportedWorkflows, type N8nWorkflow, readWorkflow } from './export.ts';
import { clip } from './expressions.ts';

/** The largest export file read. */
const MAX_FILE_BYTES = 20 * 1024 * 1024;

export class ImportInputError extends Error {}

async function listFiles(p: string): Promise<string[]> {
  const stat = await fs.stat(p).catch(() => undefined);
  if (!stat) throw new ImportInputError(`${p} does not exist`);
  if (stat.isFile()) return [p];
  if (!stat.isDirectory()) throw new ImportInputError(`${p} is neither a file nor a directory`);
  const out: string[] = [];
  const entries = await fs.readdir(p, { withFileTypes: true, recursive: true });
  for (const e of entries)
    if (e.isFile() && e.name.endsWith('.json')) out.push(path.join(e.parentPath, e.name));
  return out.sort();
}

export interface Loaded {
  source: string;
  workflow?: N8nWorkflow;
  error?: string;
}

export async function loadExports(paths: string[]): Promise<Loaded[]> {
  const loaded: Loaded[] = [];
  const files = (await Promise.all(paths.map(listFiles))).flat();
  for (const file of files) {
    const stat = await fs.stat(file);
    if (stat.size > MAX_FILE_BYTES) {
      loaded.push({ source: file, error: `the file is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB` });
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(await fs.readFile(file, 'utf8'));
    } catch (err) {
      loaded.push({ source: file, error: `not JSON: ${clip((err as Error).message, 100)}` });
      continue;
    }
    let raws: unknown[];
    try {
      raws = exportedWorkflows(json);
    } catch (err) {
      loaded.push({ source: file, error: (err as Error).message });
      continue;
    }
    raws.forEach((raw, i) => {
      const source = raws.length > 1 ? `${file}#${i + 1}` : file;
      try {
        loaded.push({ source, workflow: readWorkflow(raw, path.basename(file, '.json')) });
      } catch (err) {
        if (!(err instanceof ExportError)) throw err;
        loaded.push({ source, error: err.message });
      }
    });
  }
  return loaded;
}
