import { type Config, ConfigError, loadConfig } from '../config.ts';
import { AlreadyRunningError } from '../db/instance.ts';
import { type RunningEngine, startEngine } from '../engine.ts';
import { makeLogger } from '../log.ts';
import { CatalogueError } from '../services.ts';
import { CliError, type CliIO, type Command } from './command.ts';
import { parseCommandArgs } from './main.ts';

/** Loads configuration, turning a bad value into one sentence and exit code 1. */
export function configFrom(io: CliIO): Config {
  try {
    return loadConfig(io.env, io.cwd);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
}

function makeRunCommand(name: string, summary: string, roles: { http: boolean; worker: boolean }): Command {
  return {
    name,
    summary,
    usage: `Usage: atlas ${name}\n\n${summary}.\nConfiguration comes from the environment; see the README's table.`,
    async run(args, io) {
      parseCommandArgs(args, {});
      const config = configFrom(io);
      const log = makeLogger(config.logLevel);
      let engine: RunningEngine;
      try {
        engine = await startEngine({ config, log, ...roles });
      } catch (err) {
        if (err instanceof ConfigError || err instanceof AlreadyRunningError) throw new CliError(err.message);
        if (err instanceof CatalogueError) {
          io.err(err.report);
          throw new CliError('refusing to start: the manifest catalogue is invalid (see above)');
        }
        throw err;
      }
      if (engine.url) io.out(`Atlas is listening on ${engine.url}`);
      else io.out('Atlas worker started');
      await waitForSignal(log);
      await engine.stop();
      log.info('stopped');
      return 0;
    },
  };
}

/** Resolves on the first SIGINT/SIGTERM; a second one exits at once. */
function waitForSignal(log: { info(msg: string): void; warn(msg: string): void }): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn(`${signal} again: exiting without waiting`);
        process.exit(130);
      }
      stopping = true;
      log.info(`${signal}: shutting down`);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export const serve = makeRunCommand('serve', 'Run the engine: migrations, HTTP API, worker and scheduler', {
  http: true,
  worker: true,
});

export const worker = makeRunCommand(
  'worker',
  'Run a worker and the scheduler only, against the same database',
  {
    http: false,
    worker: true,
  },
);
