import { resolve } from 'node:path';
import { formatErrors, loadCatalogue, manifestDirs } from '../manifest/index.ts';
import type { Command } from './command.ts';
import { UsageError } from './command.ts';
import { parseCommandArgs } from './main.ts';
import { cliConnectors } from './plugins.ts';

export const validate: Command = {
  name: 'validate',
  summary: 'Validate manifests (exit 0 when valid, 1 when not)',
  usage: `Usage: atlas validate [paths...] [--format text|json]

Validates the manifests in the given files and directories (default: the directories in
ATLAS_MANIFESTS, ":"-separated, else manifests/). Every error is printed as
  file:LINE:COL  Kind id: sentence
Warnings (a read that can fail at run time, such as the output of a step that may be skipped,
without a \`??\` fallback) are printed with "warning:" and do not change the exit code.
With --format json, one JSON object per line: file, line, column, kind, id, message, keyword,
severity ("error" or "warning").
Exit codes: 0 valid, 1 invalid, 2 usage error.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      args,
      { format: { type: 'string', default: 'text' } },
      true,
    );
    if (values.format !== 'text' && values.format !== 'json') {
      throw new UsageError(`--format must be text or json, not "${values.format}"`);
    }
    const dirs = positionals.length > 0 ? positionals : manifestDirs(io.env);
    const absolute = dirs.map((dir) => resolve(io.cwd, dir));
    const { catalogue, errors, warnings } = await loadCatalogue({
      dirs: absolute,
      connectors: await cliConnectors(io),
    });
    // Report paths as the user wrote them, relative to the working directory.
    const shown = [...errors, ...warnings].map((e) => ({
      ...e,
      file: relativeTo(io.cwd, e.file),
      severity: e.severity ?? 'error',
    }));
    const counts = `${plural(errors.length, 'error')}, ${plural(warnings.length, 'warning')}`;
    if (values.format === 'json') {
      for (const error of shown) io.out(JSON.stringify(error));
    } else if (errors.length > 0) {
      io.err(formatErrors(shown));
      io.err(`\n${counts}.`);
    } else {
      if (warnings.length > 0) io.err(`${formatErrors(shown)}\n`);
      io.out(
        `${catalogue?.size ?? 0} manifests valid (${dirs.join(', ')})${warnings.length > 0 ? `, ${plural(warnings.length, 'warning')}` : ''}.`,
      );
    }
    return catalogue ? 0 : 1;
  },
};

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function relativeTo(cwd: string, file: string): string {
  const prefix = cwd.endsWith('/') ? cwd : `${cwd}/`;
  return file.startsWith(prefix) ? file.slice(prefix.length) : file;
}
