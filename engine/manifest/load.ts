// Reading the catalogue from disk. `manifests/` by default; ATLAS_MANIFESTS (a
// `:`-separated list of directories) replaces it, so an operator can add their own
// directory beside the shipped one.
import type { Stats } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
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
async function collectFiles(
  path: string,
  files: string[],
  errors: ManifestError[],
  top: boolean,
): Promise<void> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (err) {
    errors.push(unreadable(path, err));
    return;
  }
  if (info.isFile()) {
    if (top || EXTENSIONS.test(path)) files.push(path);
    return;
  }
  if (!info.isDirectory()) return;
  let names: string[];
  try {
    names = (await readdir(path)).sort();
  } catch (err) {
    errors.push(unreadable(path, err));
    return;
  }
  for (const name of names) {
    if (name.startsWith('.') || name === 'node_modules') continue;
    await collectFiles(join(path, name), files, errors, false);
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
  for (const dir of options.dirs ?? manifestDirs({})) await collectFiles(dir, files, errors, true);
  const sources: ManifestSource[] = [];
  await Promise.all(
    files.map(async (file, i) => {
      try {
        sources[i] = { file, text: await readFile(file, 'utf8') };
      } catch (err) {
        errors.push(unreadable(file, err));
      }
    }),
  );
  const result = validateSources(sources.filter(Boolean), options);
  if (errors.length === 0) return result;
  return { errors: [...errors, ...result.errors], warnings: result.warnings };
}
