// `atlas run` in this process: the engine's parts over the command's database, and a queue
// worker of its own when no worker process is alive.
import { anyWorkerAlive } from '../db/heartbeats.ts';
import { migrationStatus } from '../db/migrate.ts';
import { startEngine } from '../engine.ts';
import { RuntimeError } from '../runtime/index.ts';
import { catalogueFailure, unknownWorkflow } from './catalogue-errors.ts';
import { CliError, type CliIO } from './command.ts';
import { openCliDatabase } from './database.ts';
import { printEnded, printStarted, refused, type StartOptions } from './run.ts';

export async function runInProcess(io: CliIO, o: StartOptions): Promise<number> {
  const { config, log, instance, db, close } = await openCliDatabase(io, { poolSize: 4, prepare: true });
  const cleanup: Array<() => Promise<void>> = [close];
  try {
    if ((await migrationStatus(db)).pending.length > 0) {
      throw new CliError(
        'the database has pending migrations: run `atlas migrate up` (or start the engine) first',
      );
    }
    // No role: the engine's parts over this command's database; a worker only if none runs.
    const engine = await startEngine({
      config,
      log,
      http: false,
      worker: false,
      schedules: false,
      database: { db, url: instance.url, directUrl: instance.directUrl },
    }).catch(catalogueFailure(io));
    cleanup.push(() => engine.stop());
    const { services } = engine;
    if (!services.catalogue.workflow(o.workflowId)) throw unknownWorkflow(services.catalogue, o.workflowId);
    const { run, created } = await services.runtime.runtime
      .trigger({
        tenantId: o.tenantId,
        workflowId: o.workflowId,
        input: o.input ?? {},
        idempotencyKey: o.key,
        actor: 'cli',
      })
      .catch(runtimeFailure);
    if (!o.wait) return printStarted(io, o, run, created);
    if (!(await anyWorkerAlive(db))) await engine.startWorker(4);
    const done = await services.runtime.runtime.waitForRun(o.tenantId, run.id, o.timeoutMs);
    if (!done) throw new CliError(`run ${run.id} disappeared`);
    return printEnded(io, o, done);
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => {});
  }
}

function runtimeFailure(err: unknown): never {
  throw err instanceof RuntimeError ? refused(err.message, err.details) : err;
}
