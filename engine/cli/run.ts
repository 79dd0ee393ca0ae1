import { jsonProblem } from '../http/body.ts';
import type { RunDetail } from '../runtime/index.ts';
import { CliError, type CliIO, type Command, configFrom, UsageError } from './command.ts';
import { runningEngine } from './engine-file.ts';
import { parseCommandArgs } from './main.ts';

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
    if (values['dry-run']) return (await import('./run-plan.ts')).planRun(io, workflowId, input, values);
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

export interface StartOptions {
  workflowId: string;
  tenantId: string;
  input: unknown;
  key: string | undefined;
  wait: boolean;
  timeoutMs: number;
  json: boolean;
}

/**
 * Beside a running engine on the same database, through its API (no catalogue to load, no
 * engine to build); otherwise in this process, with a worker of its own when none runs.
 */
async function startRun(io: CliIO, o: StartOptions): Promise<number> {
  const config = configFrom(io);
  const engine = await runningEngine(config);
  if (engine && (engine.runs || !o.wait)) {
    const { runThroughEngine } = await import('./run-remote.ts');
    const code = await runThroughEngine(io, config, engine.url, o);
    if (code !== undefined) return code;
  }
  const { runInProcess } = await import('./run-local.ts');
  return runInProcess(io, o);
}

/** Prints the run `atlas run` started (or found by its idempotency key); exit code 0. */
export function printStarted(
  io: CliIO,
  o: StartOptions,
  run: { id: string; status: string },
  created: boolean,
): number {
  io.out(
    o.json
      ? JSON.stringify(run)
      : `${created ? 'Queued' : 'Already exists:'} run ${run.id} of ${o.workflowId} (${run.status}). Follow it: atlas runs show ${run.id}`,
  );
  return 0;
}

/** Prints how the run ended (`--wait`); exit code 0 only when it succeeded. */
export function printEnded(io: CliIO, o: StartOptions, run: RunDetail): number {
  io.out(o.json ? JSON.stringify(run, null, 2) : formatRun(run));
  return run.status === 'succeeded' ? 0 : 1;
}

/** A refused run as one sentence, with the input's problems under it. */
export function refused(message: string, details: unknown): CliError {
  const lines = Array.isArray(details)
    ? details.map((d: { message?: string }) => `\n  - ${d.message}`).join('')
    : '';
  return new CliError(`${message}${lines}`);
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
