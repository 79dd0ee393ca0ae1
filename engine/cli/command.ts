import { type Config, ConfigError, loadConfig } from '../config.ts';
import { AtlasError } from '../errors.ts';

/** A CLI command: one file per command under engine/cli/, listed in main.ts. */
export interface Command {
  name: string;
  /** One line for `atlas --help`. */
  summary: string;
  /** Full usage text for `atlas <name> --help`. */
  usage: string;
  /** Returns the exit code: 0 success, 1 failure, 2 usage error. */
  run(args: string[], io: CliIO): Promise<number>;
}

export interface CliIO {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** A usage error: printed with the command's usage, exit code 2. */
export class UsageError extends AtlasError {
  constructor(message: string) {
    super('usage', message);
    this.name = 'UsageError';
  }
}

/** A failure the user can act on: printed as one sentence, exit code 1, no stack trace. */
export class CliError extends AtlasError {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super('cli_failed', message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Loads configuration, turning a bad value into one sentence and exit code 1. */
export function configFrom(io: CliIO): Config {
  try {
    return loadConfig(io.env, io.cwd);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
}
