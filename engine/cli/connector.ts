import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SDK_VERSION } from '../connector-sdk/index.ts';
import { CliError, type Command, UsageError } from './command.ts';
import { parseCommandArgs } from './main.ts';
import { scaffoldFiles } from './scaffold.ts';

const ID = /^[a-z][a-z0-9_]*$/;

export const connector: Command = {
  name: 'connector',
  summary: 'Create a connector package (new <id>)',
  usage: `Usage: atlas connector new <id> [--dir <path>]

Writes a connector package for outside Atlas into <path>/atlas-connector-<id> (default: the
working directory): one action with its schemas, a README and a test that runs the action
against a fake provider. Then: cd into it, npm install, npm test, and load it with
ATLAS_CONNECTORS=<its path>.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { dir: { type: 'string', default: '.' } }, true);
    const [verb, id, ...rest] = positionals;
    if (verb !== 'new')
      throw new UsageError(verb === undefined ? 'say what to do: new <id>' : `unknown action "${verb}"`);
    if (id === undefined || rest.length > 0)
      throw new UsageError('give one connector id: atlas connector new <id>');
    if (!ID.test(id))
      throw new CliError(
        `the connector id "${id}" must be lower case letters, digits and _, starting with a letter`,
      );
    const target = path.resolve(io.cwd, values.dir as string, `atlas-connector-${id.replace(/_/g, '-')}`);
    if (existsSync(target)) throw new CliError(`${target} already exists; choose another --dir or remove it`);
    const files = scaffoldFiles({ id, engine: `file:${engineRoot()}`, sdkRange: `^${SDK_VERSION}` });
    for (const [name, text] of Object.entries(files)) {
      const file = path.join(target, name);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, text);
    }
    io.out(`wrote ${target}: ${Object.keys(files).sort().join(', ')}`);
    const shown = path.relative(io.cwd, target);
    io.out(`next: cd ${shown.startsWith('..') ? target : shown} && npm install && npm test`);
    return 0;
  },
};

/** Atlas's own package folder (the one whose package.json is atlas-engine). */
function engineRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'atlas-engine'
    )
      return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new CliError('cannot find the atlas-engine package this command runs from');
    dir = parent;
  }
}
