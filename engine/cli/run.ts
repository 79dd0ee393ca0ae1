import { anyWorkerAlive } from '../db/heartbeats.ts';
import { migrationStatus } from '../db/migrate.ts';
import { startEngine } from '../engine.ts';
import { jsonProblem } from '../http/body.ts';
import { type RunDetail, RuntimeError } from '../runtime/index.ts';
import { catalogueFailure, unknownWorkflow } from './catalogue-errors.ts';
import { CliError, type CliIO, type Command, UsageError } from './command.ts';
import { openCliDatabase } from './database.ts';
import { parseCommandArgs } from './main.ts';
import { planRun } from './run-plan.ts';

const USAGE = `Usage: atlas run <workflow id> --tenant <id> [--input '<json>'] [--idempotency-key <key>] [--wait [--timeout 60s]]
       atlas run <workflow id> --dry-run [--input '<json>'] [--trigger <file>] [--fixtures <dir>] [--tenant <id>] [--format json]

Starts a run of a workflow for a tenant (a manual trigger).

  --wait          wait until the run ends and print it with its steps; exit 1 unless it succeeded.
                  With no worker running, this process runs the queue itself until then.
  --trigger <file>  with --dry-run: a sample trigger; for a webhook workflow, the event as the
                  provider sends it (a Stripe event JSON), read as trigger.body
  --dry-run       print the plan: each step's rendered input, the output it would use (from
                  --fixtures <dir>/<step id>.json or <connector.action>.json, else the action's
                  example) and which steps \`if\` would skip. Calls nothing, writes nothing.`;

export const run: Command = {
  name: 'run',
  summary: 'Start a workflow run (or print its plan with --dry-run)',
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        tenant: { type: 'string' },
        input: { type: 'string' },
        'idempotency-key': { type: 'string' },
        wait: { type: 'boolean' },
        timeout: { type: 'string' },
        'dry-run': { type: 'boolean' },
        fixtures: { type: 'string' },
        trigger: { type: 'string' },
        format: { type: 'string' },
      },
      true,
    );
    const [workflowId, ...extra] = positionals;
    if (!workflowId || extra.length > 0) throw new UsageError('name exactly one workflow id');
    const input = values.input === undefined ? undefined : parseInput(values.input);
    if (values.format && values.format !== 'json' && values.format !== 'text') {
      throw new UsageError('--format is text or json');
    }
    if (values.trigger !== undefined && !values['dry-run'])
      throw new UsageError(
        '--trigger goes with --dry-run (a real run of a webhook workflow starts with a delivery)',
      );
    if (values['dry-run']) return planRun(io, workflowId, input, values);
    if (!values.tenant) throw new UsageError('--tenant is required');
    const timeoutMs = values.timeout ? parseTimeout(values.timeout) : 60_000;
    return startRun(io, {
      workflowId,
      tenantId: values.tenant,
      input,
      key: values['idempotency-key'],
      wait: !!values.wait,
      timeoutMs,
      json: values.format === 'json',
    });
  },
};

function parseInput(text: string | undefined): unknown {
  if (text === undefined) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`--input is not JSON: ${jsonProblem(text, err as Error)}`);
  }
}

export function parseTimeout(text: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(text);
  if (!m) throw new UsageError(`--timeout must be a duration such as 30s or 5m (got "${text}")`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm'];
}

interface StartOptions {
  workflowId: string;
  tenantId: string;
  input: unknown;
  key: string | undefined;
  wait: boolean;
  timeoutMs: number;
  json: boolean;
}

async function startRun(io: CliIO, o: StartOptions): Promise<number> {
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
    if (!o.wait) {
      io.out(
        o.json
          ? JSON.stringify(run)
          : `${created ? 'Queued' : 'Already exists:'} run ${run.id} of ${o.workflowId} (${run.status}). Follow it: atlas runs show ${run.id}`,
      );
      return 0;
    }
    if (!(await anyWorkerAlive(db))) await engine.startWorker(4);
    const done = await services.runtime.runtime.waitForRun(o.tenantId, run.id, o.timeoutMs);
    if (!done) throw new CliError(`run ${run.id} disappeared`);
    io.out(o.json ? JSON.stringify(done, null, 2) : formatRun(done));
    return done.status === 'succeeded' ? 0 : 1;
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => {});
  }
}

function runtimeFailure(err: unknown): never {
  if (err instanceof RuntimeError) {
    const details = Array.isArray(err.details)
      ? err.details.map((d: { message?: string }) => `\n  - ${d.message}`).join('')
      : '';
    throw new CliError(`${err.message}${details}`);
  }
  throw err;
}

export function formatRun(run: RunDetail): string {
  const lines = [`Run ${run.id} of ${run.workflowId}: ${run.status}`];
  const ended = run.status === 'failed' || run.status === 'cancelled';
  for (const step of run.steps) {
    const last = step.attempts.at(-1);
    const took = last?.durationMs !== null && last?.durationMs !== undefined ? ` ${last.durationMs} ms` : '';
    // A run that ended will not start its remaining steps: they are "not run", not pending.
    const status = ended && step.status === 'pending' ? 'not run' : step.status;
    lines.push(`  ${step.id.padEnd(20)} ${status.padEnd(10)} attempts ${step.attempts.length}${took}`);
    if (last?.status === 'skipped') lines.push(`    ${last.skipReason}`);
    if (last?.output !== null && last?.output !== undefined)
      lines.push(`    output: ${JSON.stringify(last.output)}`);
    if (last?.error) lines.push(`    error: ${(last.error as { message?: string }).message}`);
  }
  if (run.output !== null && run.output !== undefined) lines.push(`  output: ${JSON.stringify(run.output)}`);
  return lines.join('\n');
}
