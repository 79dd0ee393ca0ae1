import { watch } from 'node:fs';
import { ConfigError } from '../config.ts';
import { JOB_TYPES } from '../connector-sdk/index.ts';
import { AlreadyRunningError } from '../db/instance.ts';
import { type RunningEngine, startEngine } from '../engine.ts';
import { makeLogger } from '../log.ts';
import { PluginError } from '../plugins/index.ts';
import {
  ALL_ROLES,
  describeRoles,
  parseWorkerRoles,
  WorkerRoleError,
  type WorkerRoles,
} from '../queue/roles.ts';
import { CatalogueError } from '../services.ts';
import { CliError, type Command, configFrom } from './command.ts';
import { advertiseEngine } from './engine-file.ts';
import { parseCommandArgs } from './main.ts';

interface RunCommand {
  name: string;
  summary: string;
  /** Usage lines of the command's own options. */
  options: string;
  /** Its own flags (besides `--watch`). */
  flags: Record<string, { type: 'boolean' | 'string' }>;
  /** The engine's roles from those flags; a bad value is a CliError (one sentence). */
  roles(values: Record<string, unknown>): { http: boolean; worker: boolean; roles?: WorkerRoles };
}

function makeRunCommand(spec: RunCommand): Command {
  const { name, summary } = spec;
  return {
    name,
    summary,
    usage: `Usage: atlas ${name} [options]\n\n${summary}.\nConfiguration comes from the environment; see the README's table.

  --watch   reload the manifests when a file under ATLAS_MANIFESTS changes. An invalid change
            is reported and the last valid catalogue keeps serving. SIGHUP reloads too.
${spec.options}
`,
    async run(args, io) {
      const { values } = parseCommandArgs(args, { watch: { type: 'boolean' }, ...spec.flags });
      const roles = spec.roles(values);
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
      // The signal handlers go in before the process says it is ready: a supervisor (or a
      // test) that signals as soon as it reads the line would otherwise meet the default
      // action, which ends the process without a graceful shutdown.
      const stopped = waitForSignal(log);
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
      // Commands run beside this engine (`atlas run`) use its API rather than building their own.
      const unadvertise = engine.url
        ? await advertiseEngine(config, engine.url, roles.worker && (roles.roles ?? ALL_ROLES).runs).catch(
            (err: unknown) => {
              log.warn({ err }, '.engine.json not written: other commands build their own engine');
              return undefined;
            },
          )
        : undefined;
      if (engine.url) io.out(`Atlas is listening on ${engine.url}`);
      if (roles.worker && !roles.http)
        io.out(`Atlas worker started (${describeRoles(roles.roles ?? ALL_ROLES)})`);
      if (watcher) io.out(`Watching ${config.manifestDirs.join(', ')} for changes`);
      await stopped;
      await unadvertise?.().catch(() => {});
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

export const serve = makeRunCommand({
  name: 'serve',
  summary: 'Run the engine: migrations, HTTP API, worker and scheduler',
  options: `  --no-worker  the HTTP API only; the queue's work is left to \`atlas worker\` processes`,
  flags: { 'no-worker': { type: 'boolean' } },
  roles: (values) => ({ http: true, worker: values['no-worker'] !== true }),
});

export const worker = makeRunCommand({
  name: 'worker',
  summary: 'Run a worker and the scheduler only, against the same database',
  options: `  --only R,R  serve only these roles (default: all): runs, scheduler, jobs (every job type)
             or jobs:<TYPE>, TYPE one of ${JOB_TYPES.join(', ')}.
             Work no running worker serves waits in the queue (/metrics: atlas_queue_role_depth).`,
  flags: { only: { type: 'string' } },
  roles: (values) => {
    if (values.only === undefined) return { http: false, worker: true };
    try {
      return { http: false, worker: true, roles: parseWorkerRoles(String(values.only)) };
    } catch (err) {
      if (err instanceof WorkerRoleError) throw new CliError(err.message);
      throw err;
    }
  },
});
