import { copyFile, mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { manifestDirs, SCHEMA_DIR, SCHEMA_FILES } from '../manifest/index.ts';
import { type Command, UsageError } from './command.ts';
import { parseCommandArgs } from './main.ts';

/** The catalogue's folder of each kind, and the schema its files point at. */
const FOLDERS = [
  ['workflows', SCHEMA_FILES.Workflow],
  ['webhooks', SCHEMA_FILES.WebhookRoute],
  ['oauth', SCHEMA_FILES.OAuthProvider],
  ['agents', SCHEMA_FILES.Agent],
] as const;

export const schema: Command = {
  name: 'schema',
  summary: 'Write the manifest JSON Schemas to a directory, for editors',
  usage: `Usage: atlas schema [dir]

Writes the JSON Schemas (draft 2020-12) of every manifest kind to dir (default: .atlas/schemas),
then prints the first line each manifest folder's files should start with: the path is relative
to the manifest's own folder, as the YAML language server reads it, e.g. in manifests/workflows/
  # yaml-language-server: $schema=../../.atlas/schemas/workflow.schema.json`,
  async run(args, io) {
    const { positionals } = parseCommandArgs(args, {}, true);
    if (positionals.length > 1) throw new UsageError('give at most one directory');
    const dir = resolve(io.cwd, positionals[0] ?? '.atlas/schemas');
    await mkdir(dir, { recursive: true });
    // The files refer to each other by relative name, so they are copied side by side as is.
    for (const file of Object.values(SCHEMA_FILES)) await copyFile(join(SCHEMA_DIR, file), join(dir, file));
    io.out(`wrote ${Object.values(SCHEMA_FILES).length} schemas to ${dir}`);
    const root = resolve(io.cwd, manifestDirs(io.env)[0]!);
    io.out('\nStart each manifest with the line for its folder:');
    for (const [folder, file] of FOLDERS) {
      const at = join(root, folder);
      io.out(
        `  ${relative(io.cwd, at) || '.'}/  # yaml-language-server: $schema=${relative(at, join(dir, file))}`,
      );
    }
    return 0;
  },
};
