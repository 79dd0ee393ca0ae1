// `atlas run --dry-run`: the plan of a workflow, each step's input and output, and what `if` would skip.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { makeConnectorRegistry } from '../connector-sdk/index.ts';
import { evaluate, isTruthy } from '../expr/index.ts';
import { jsonProblem } from '../http/body.ts';
import type { Catalogue } from '../manifest/catalogue.ts';
import type { Workflow } from '../manifest/types.gen.ts';
import { type DryRunPlan, dryRun } from '../runtime/dry-run.ts';
import { loadValidCatalogue } from '../services.ts';
import { eventMatcher } from '../webhooks/routes.ts';
import { catalogueFailure, unknownWorkflow } from './catalogue-errors.ts';
import { CliError, type CliIO, configFrom } from './command.ts';
import { cliConnectors } from './plugins.ts';

export async function planRun(
  io: CliIO,
  workflowId: string,
  given: unknown,
  values: {
    tenant?: string | undefined;
    fixtures?: string | undefined;
    format?: string | undefined;
    trigger?: string | undefined;
  },
): Promise<number> {
  const config = configFrom(io);
  const connectors = makeConnectorRegistry(await cliConnectors(io));
  const catalogue = await loadValidCatalogue(config, connectors).catch(catalogueFailure(io));
  const entry = catalogue.workflow(workflowId);
  if (!entry) throw unknownWorkflow(catalogue, workflowId);
  const { trigger } = entry.manifest;
  // A scheduled workflow's runs take the input its schedule gives them.
  const input = given ?? (trigger.type === 'schedule' ? (trigger.input ?? {}) : {});
  const tenantId = values.tenant ?? 'demo';
  const sample =
    values.trigger === undefined
      ? undefined
      : sampleTrigger(catalogue, entry.manifest, await readJsonFile(io, values.trigger, '--trigger'));
  if (sample?.note) io.out(sample.note);
  if (!sample && trigger.type === 'webhook')
    io.out(
      `Note: ${workflowId} starts from a webhook; give a sample event with --trigger <file.json> to render trigger.body.\n`,
    );
  const plan = await dryRun({
    workflow: entry.manifest,
    connectors,
    tenantId,
    input,
    ...(sample ? { trigger: sample.trigger } : {}),
    fixturesDir: values.fixtures ? path.resolve(io.cwd, values.fixtures) : undefined,
    workflows: (id) => catalogue.workflow(id)?.manifest,
  });
  const { steps } = plan;
  if (values.format === 'json')
    io.out(JSON.stringify({ workflow: workflowId, hash: entry.hash, ...plan }, null, 2));
  else printPlan(io, workflowId, entry.hash, plan);
  return steps.some((s) => s.action === 'error') || plan.output?.error ? 1 : 0;
}

async function readJsonFile(io: CliIO, file: string, flag: string): Promise<unknown> {
  const text = await readFile(path.resolve(io.cwd, file), 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new CliError(
      `${flag} ${file} cannot be read: ${err.code === 'ENOENT' ? 'no such file' : err.message}`,
    );
  });
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(`${flag} ${file} is not JSON: ${jsonProblem(text, err as Error)}`);
  }
}

/**
 * The trigger a dry run renders with: for a webhook workflow the file is the event as the
 * provider sends it (its id and type read where the route says); otherwise the trigger's fields.
 */
export function sampleTrigger(
  catalogue: Catalogue,
  workflow: Workflow,
  sample: unknown,
): { trigger: Record<string, unknown>; note?: string } {
  const at = new Date().toISOString();
  const { trigger } = workflow;
  if (trigger.type !== 'webhook') {
    const fields = sample !== null && typeof sample === 'object' ? sample : {};
    return { trigger: { type: trigger.type, at, ...fields, dryRun: true } };
  }
  const route = catalogue.webhookRoute(trigger.route)?.manifest;
  const fromBody = (locator: string | undefined): unknown => {
    if (!locator?.startsWith('body.')) return undefined;
    return locator
      .slice(5)
      .split('.')
      .reduce<unknown>(
        (v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
        sample,
      );
  };
  const eventType = String(fromBody(route?.event.type) ?? (route?.event.type ? 'unknown' : 'message'));
  const built = {
    type: 'webhook',
    at,
    route: trigger.route,
    eventId: String(fromBody(route?.event.id) ?? 'evt_dry_run'),
    eventType,
    body: sample,
    headers: {},
    query: {},
  };
  const listed = trigger.events === undefined || eventMatcher(trigger.events)(eventType);
  let admits = listed;
  if (listed && trigger.if !== undefined)
    admits = isTruthy(evaluate(trigger.if, { trigger: built, tenant: {} }, at));
  const note = !listed
    ? `Note: ${workflow.id} does not list event type ${eventType}; a delivery of it would start no run.\n`
    : !admits
      ? `Note: the trigger \`if\` of ${workflow.id} is false for this event; a delivery of it would start no run.\n`
      : undefined;
  return { trigger: built, ...(note ? { note } : {}) };
}

/** A sub-workflow's plan, indented under its step. */
function printChild(io: CliIO, child: NonNullable<DryRunPlan['steps'][number]['child']>): void {
  const how = child.wait ? 'waits for its output' : 'starts it and goes on';
  io.out(`    calls:  ${child.workflowId} (${how})`);
  if (child.error) io.out(`    ! ${child.error}`);
  for (const c of child.plan?.steps ?? []) {
    const mark = c.action === 'run' ? '+' : c.action === 'skip' ? '~' : '!';
    io.out(`      ${mark} ${c.id}  (${c.uses})${c.reason ? `: ${c.reason}` : ''}`);
    if (c.child) io.out(`        calls: ${c.child.workflowId}${c.child.error ? ` (${c.child.error})` : ''}`);
  }
}

function printPlan(io: CliIO, workflowId: string, hash: string, plan: DryRunPlan): void {
  const { steps } = plan;
  io.out(`Plan of ${workflowId} (manifest ${hash.slice(0, 12)}), nothing will be called:\n`);
  if (plan.readsNow) io.out(`  now: ${plan.now} (what \`now\` answers in $expr and if)\n`);
  for (const [i, s] of steps.entries()) {
    const mark = s.action === 'run' ? '+' : s.action === 'skip' ? '~' : '!';
    io.out(`${mark} ${i + 1}. ${s.id}  (${s.uses})`);
    if (s.action === 'skip') io.out(`    skipped: ${s.reason}`);
    if (s.action === 'error') io.out(`    error: ${s.reason}`);
    if (s.action === 'run' && s.items) {
      io.out(`    forEach: ${s.items.length} item${s.items.length === 1 ? '' : 's'}`);
      for (const item of s.items.slice(0, 20))
        io.out(
          `    [${item.index}] input: ${JSON.stringify(item.input)}  output: ${JSON.stringify(item.output)}  [${item.outputSource}]`,
        );
      if (s.items.length > 20) io.out(`    ... and ${s.items.length - 20} more`);
    } else if (s.action === 'run') {
      io.out(
        s.unknownInput
          ? `    input:  known after the run: ${s.unknownInput}`
          : `    input:  ${JSON.stringify(s.input)}`,
      );
      if (s.resumesAt) io.out(`    waits:  the run parks and goes on at ${s.resumesAt}`);
      if (s.child) printChild(io, s.child);
      io.out(`    output: ${JSON.stringify(s.output)}  [${s.outputSource}]`);
    }
  }
  const out = plan.output;
  if (out?.error) io.out(`\n! output error: ${out.error}`);
  else if (out?.unknown) io.out(`\noutput: known after the run: ${out.unknown}`);
  else if (out) io.out(`\noutput: ${JSON.stringify(out.value)}`);
  const count = (a: string) => steps.filter((s) => s.action === a).length;
  io.out(`\n${count('run')} to run, ${count('skip')} skipped, ${count('error')} with errors.`);
}
