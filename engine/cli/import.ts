import fs from 'node:fs/promises';
import path from 'node:path';
import { formatReport, ImportInputError, importN8n } from '../import/n8n/index.ts';
import { manifestDirs } from '../manifest/index.ts';
import { CliError, type Command, UsageError } from './command.ts';
import { parseCommandArgs } from './main.ts';

export const importCommand: Command = {
  name: 'import',
  summary: 'Convert n8n workflow exports into Atlas manifests, with a report',
  usage: `Usage: atlas import n8n <file.json | directory>... [--out DIR] [--id-from N] [--format text|json]

Reads n8n workflow exports (n8n's "Download", or \`n8n export:workflow\`) and writes one Workflow
manifest per workflow (and a WebhookRoute when it starts from a webhook) under DIR/workflows and
DIR/webhooks (default: atlas-import). Ids are WF-<N>, WF-<N+1>... in file order (--id-from,
default 100). Nodes that cannot be translated exactly become steps that fail with a message
naming the n8n node. The report says, per workflow, converted, partial (with the list) or
refused (why), and the secrets and accounts to set up; --format json prints it as JSON.
Exit codes: 0 every workflow converted fully, 1 some partial or refused, 2 usage error.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        out: { type: 'string', default: 'atlas-import' },
        'id-from': { type: 'string', default: '100' },
        format: { type: 'string', default: 'text' },
      },
      true,
    );
    const [source, ...paths] = positionals;
    if (source !== 'n8n')
      throw new UsageError(
        source
          ? `cannot import from "${source}"; only n8n`
          : 'say what to import: atlas import n8n <file | directory>',
      );
    if (paths.length === 0) throw new UsageError('give at least one n8n export file or directory');
    if (values.format !== 'text' && values.format !== 'json')
      throw new UsageError(`--format must be text or json, not "${values.format}"`);
    if (!/^\d{1,4}$/.test(values['id-from']))
      throw new UsageError('--id-from must be a number from 0 to 9999');
    const out = path.resolve(io.cwd, values.out);
    let result: Awaited<ReturnType<typeof importN8n>>;
    try {
      result = await importN8n({
        paths: paths.map((p) => path.resolve(io.cwd, p)),
        idFrom: Number(values['id-from']),
        catalogue: manifestDirs(io.env).map((d) => path.resolve(io.cwd, d)),
        outDir: out,
      });
    } catch (err) {
      if (err instanceof ImportInputError) throw new CliError(err.message);
      throw err;
    }
    for (const file of result.files) {
      const target = path.join(out, file.name);
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.writeFile(target, file.text);
    }
    const shown = {
      ...result.report,
      workflows: result.report.workflows.map((w) => ({
        ...w,
        source: relative(io.cwd, w.source),
        files: w.files.map((f) => relative(io.cwd, path.join(out, f))),
      })),
    };
    if (values.format === 'json') io.out(JSON.stringify(shown, null, 2));
    else io.out(formatReport(shown));
    return shown.totals.converted === shown.totals.workflows ? 0 : 1;
  },
};

function relative(cwd: string, file: string): string {
  const prefix = cwd.endsWith('/') ? cwd : `${cwd}/`;
  return file.startsWith(prefix) ? file.slice(prefix.length) : file;
}
