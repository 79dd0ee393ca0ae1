// Reading the catalogue from disk. `manifests/` by default; ATLAS_MANIFESTS (a
// `:`-separated list of directories) replaces it, so an operator can add their own
// directory beside the shipped one.
// The files are read synchronously: a catalogue is a few hundred kilobytes in small files, and
// a round trip to the thread pool per stat and read cost more than the reading itself (most of
// all on a loaded machine, where `atlas validate` waited on the pool as long as it parsed).
import { type Dirent, readdirSync, readFileSync, type Stats, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ManifestError } from './errors.ts';
import {
  type ManifestSource,
  type ValidateOptions,
  type ValidationResult,
  validateSources,
} from './validate.ts';

const EXTENSIONS = /\.(ya?ml|json)$/i;

/** The catalogue directories: ATLAS_MANIFESTS when set, else `manifests`. */
export function manifestDirs(env: Readonly<Record<string, string | undefined>>): string[] {
  const list = (env.ATLAS_MANIFESTS ?? '').split(':').filter((dir) => dir.trim() !== '');
  return list.length > 0 ? list : ['manifests'];
}

function unreadable(file: string, err: unknown): ManifestError {
  const code = (err as NodeJS.ErrnoException).code;
  const reason =
    code === 'ENOENT'
      ? 'no such file or directory'
      : code === 'EACCES'
        ? 'permission denied'
        : (err as Error).message;
  return {
    file,
    line: 1,
    column: 1,
    kind: null,
    id: null,
    keyword: 'unreadable',
    message: `cannot read ${file}: ${reason}`,
  };
}

/** Files under the given paths (a file given directly is taken whatever its extension), sorted. */
function collectFiles(path: string, files: string[], errors: ManifestError[], top: boolean): void {
  let info: Stats;
  try {
    info = statSync(path);
  } catch (err) {
    errors.push(unreadable(path, err));
    return;
  }
  if (info.isFile()) {
    if (top || EXTENSIONS.test(path)) files.push(path);
    return;
  }
  if (info.isDirectory()) collectDirectory(path, files, errors);
}

function collectDirectory(dir: string, files: string[], errors: ManifestError[]): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  } catch (err) {
    errors.push(unreadable(dir, err));
    return;
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    // Only links need a stat to know what they point at.
    if (entry.isFile()) {
      if (EXTENSIONS.test(path)) files.push(path);
    } else if (entry.isDirectory()) collectDirectory(path, files, errors);
    else if (entry.isSymbolicLink()) collectFiles(path, files, errors, false);
  }
}

export interface LoadOptions extends ValidateOptions {
  /** Directories or files; `manifests` when absent. */
  dirs?: readonly string[];
}

/** Reads and validates the catalogue. The catalogue is present only when there are no errors. */
export async function loadCatalogue(options: LoadOptions): Promise<ValidationResult> {
  const files: string[] = [];
  const errors: ManifestError[] = [];
  for (const dir of options.dirs ?? manifestDirs({})) collectFiles(dir, files, errors, true);
  const sources: ManifestSource[] = [];
  for (const file of files) {
    try {
      sources.push({ file, text: readFileSync(file, 'utf8') });
    } catch (err) {
      errors.push(unreadable(file, err));
    }
  }
  const result = validateSources(sources, options);
  if (errors.length === 0) return result;
  return { errors: [...errors, ...result.errors], warnings: result.warnings };
}
