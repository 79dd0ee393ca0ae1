import { watch } from 'node:fs';
import { type Config, ConfigError, loadConfig } from '../config.ts';
import { AlreadyRunningError } from '../db/instance.ts';
import { type RunningEngine, startEngine } from '../engine.ts';
import { makeLogger } from '../log.ts';
import { PluginError } from '../plugins/index.ts';
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
    usage: `Usage: atlas ${name} [--watch]\n\n${summary}.\nConfiguration comes from the environment; see the README's table.

  --watch   reload the manifests when a file under ATLAS_MANIFESTS changes. An invalid change
            is reported and the last valid catalogue keeps serving. SIGHUP reloads too.`,
    async run(args, io) {
      const { values } = parseCommandArgs(args, { watch: { type: 'boolean' } });
      const config = configFrom(io);
      const log = makeLogger(config.logLevel);
      let engine: RunningEngine;
      try {
        engine = await startEngine({ config, log, ...roles });
      } catch (err) {
        if (err instanceof ConfigError || err instanceof AlreadyRunningError || err instanceof PluginError)
          throw new CliError(err.message);
        if (err instanceof CatalogueError) {
          io.err(err.report);
          throw new CliError('refusing to start: the manifest catalogue is invalid (see above)');
        }
        throw err;
      }
      if (engine.url) io.out(`Atlas is listening on ${engine.url}`);
      else io.out('Atlas worker started');
      const reload = async (why: string) => {
        const result = await engine.reload().catch((err: unknown) => {
          log.error({ err }, 'catalogue:reload-failed');
          return undefined;
        });
        if (!result) return;
        if (result.ok) {
          const what = result.changes.length > 0 ? result.changes.join(', ') : 'no change';
          log.info({ version: result.version, changes: result.changes, why }, 'catalogue:reloaded');
          io.out(`Catalogue reloaded (${why}): ${what}.`);
        } else {
          log.warn({ version: result.version, why }, 'catalogue:reload-refused');
          io.err(result.report);
          io.err('The catalogue is invalid (see above): still serving the last valid one.');
        }
      };
      const onHup = () => void reload('SIGHUP');
      process.on('SIGHUP', onHup);
      const watcher = values.watch
        ? watchManifests(config.manifestDirs, () => void reload('a file changed'))
        : undefined;
      if (watcher) io.out(`Watching ${config.manifestDirs.join(', ')} for changes`);
      await waitForSignal(log);
      process.off('SIGHUP', onHup);
      watcher?.close();
      await engine.stop();
      log.info('stopped');
      return 0;
    },
  };
}

/** Calls `onChange` once things settle after changes under the directories (editors write in bursts). */
function watchManifests(dirs: readonly string[], onChange: () => void): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, 200);
  };
  const watchers = dirs.flatMap((dir) => {
    try {
      // A watcher that fails later (the directory removed) stops watching; serving goes on.
      return [watch(dir, { recursive: true }, fire).on('error', () => {})];
    } catch {
      return [];
    }
  });
  return {
    close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
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
