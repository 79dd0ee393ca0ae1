import { copyFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SCHEMA_DIR, SCHEMA_FILES } from '../manifest/index.ts';
import { type Command, UsageError } from './command.ts';
import { parseCommandArgs } from './main.ts';

export const schema: Command = {
  name: 'schema',
  summary: 'Write the manifest JSON Schemas to a directory, for editors',
  usage: `Usage: atlas schema [dir]

Writes the JSON Schemas (draft 2020-12) of every manifest kind to dir (default: .atlas/schemas).
Point an editor at them with a first line like
  # yaml-language-server: $schema=.atlas/schemas/workflow.schema.json`,
  async run(args, io) {
    const { positionals } = parseCommandArgs(args, {}, true);
    if (positionals.length > 1) throw new UsageError('give at most one directory');
    const dir = resolve(io.cwd, positionals[0] ?? '.atlas/schemas');
    await mkdir(dir, { recursive: true });
    // The files refer to each other by relative name, so they are copied side by side as is.
    for (const file of Object.values(SCHEMA_FILES)) await copyFile(join(SCHEMA_DIR, file), join(dir, file));
    io.out(`wrote ${Object.values(SCHEMA_FILES).length} schemas to ${dir}`);
    return 0;
  },
};
