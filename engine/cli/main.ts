import { parseArgs } from 'node:util';
import { environment } from '../config.ts';
import { CliError, type CliIO, type Command, UsageError } from './command.ts';

/** Commands are loaded lazily so `atlas validate` does not pay for the HTTP server. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {};

export function registerCommand(name: string, summary: string, load: () => Promise<Command>): void {
  COMMANDS[name] = { summary, load };
}

function help(io: CliIO): void {
  io.out('Usage: atlas <command> [options]\n');
  io.out('Commands:');
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  for (const [name, c] of Object.entries(COMMANDS)) io.out(`  ${name.padEnd(width)}  ${c.summary}`);
  io.out("\nRun `atlas <command> --help` for a command's options.");
}

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  await import('./commands.ts');
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    help(io);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    const { version } = await import('../version.ts');
    io.out(version);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    const { didYouMean } = await import('../connector-sdk/suggest.ts');
    const hint = didYouMean(name, Object.keys(COMMANDS)).replace(/^; /, ' ');
    io.err(
      `atlas: unknown command "${name}".${hint ? ` ${hint.trim()[0]!.toUpperCase()}${hint.trim().slice(1)}` : ''} Run \`atlas --help\` for the list.`,
    );
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.usage);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError || String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
      io.err(`atlas ${name}: ${(err as Error).message}`);
      io.err(command.usage);
      return 2;
    }
    if (err instanceof CliError) {
      io.err(`atlas ${name}: ${err.message}`);
      return err.exitCode;
    }
    throw err;
  }
}

function processIO(): CliIO {
  // A reader that stops early (`atlas connectors | head`) closes the pipe: that is the
  // reader's choice, not an error of ours, so exit quietly instead of with a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  return {
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
    env: environment(),
    cwd: process.cwd(),
  };
}

/** parseArgs with strict options; errors become usage errors. */
export function parseCommandArgs<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(
  args: string[],
  options: T,
  allowPositionals = false,
) {
  return parseArgs({ args, options, allowPositionals, strict: true });
}
