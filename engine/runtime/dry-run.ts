/**
 * Dry run: the plan of a workflow, like a Terraform plan. Steps are visited in the order
 * the engine would run them; each one's input is rendered, its `if` evaluated, and the
 * output it "returns" comes from a recorded fixture, or from running the action itself when
 * it is read-only and needs no credentials (`core.set` shapes data the next steps read),
 * or from the action's declared example. No network is reachable and nothing is written.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ConnectorRegistry } from '../connector-sdk/index.ts';
import { TemplateError } from '../expr/index.ts';
import { MemoryAuditSink, MemoryRateLimiter } from '../hub/index.ts';
import { silentLogger } from '../log.ts';
import type { Step, Workflow } from '../manifest/types.gen.ts';
import { CALL_ACTION, type CallInput, MAX_CALL_DEPTH } from './calls.ts';
import type { RuntimeDeps } from './deps.ts';
import { executeAttempt } from './execute.ts';
import { DEFAULT_MAX_ITEMS } from './loop.ts';
import { plan, type StepState } from './plan.ts';
import {
  itemLocals,
  type RunScope,
  renderInput,
  renderList,
  renderOutput,
  shouldRun,
  triggerTime,
} from './scope.ts';
import { durableWait } from './waits.ts';

export interface PlannedStep {
  id: string;
  uses: string;
  action: 'run' | 'skip' | 'error';
  reason?: string;
  input?: unknown;
  /** Why the input cannot be known before a real run (it reads a guessed output). */
  unknownInput?: string;
  output?: unknown;
  /** Where the output came from: a fixture file, the action's example, or nothing. */
  outputSource?: string;
  /** A durable wait: when the run would go on (from the plan's time). */
  resumesAt?: string;
  /** A `workflow.run` step: the child workflow's own plan (nested up to the depth limit). */
  child?: { workflowId: string; wait: boolean; plan?: DryRunPlan; error?: string };
  /** A `forEach` step: each item's rendered input and planned output. */
  items?: Array<{ index: number; input: unknown; output: unknown; outputSource: string }>;
}

/** The workflow's `output:` as the plan renders it. */
export interface PlannedOutput {
  value?: unknown;
  /** Why it cannot be known before a real run (it reads a guessed output). */
  unknown?: string;
  error?: string;
}

export interface DryRunPlan {
  steps: PlannedStep[];
  /** What `now` answers in `$expr` and `if`: the sample trigger's `at`, or the time of planning. */
  now: string;
  /** Whether any rule of the workflow reads `now`. */
  readsNow: boolean;
  /** Absent when the workflow declares no `output:`. */
  output?: PlannedOutput;
}

export interface DryRunOptions {
  workflow: Workflow;
  connectors: ConnectorRegistry;
  tenantId: string;
  input: unknown;
  trigger?: unknown;
  /** A directory of `<step id>.json` or `<connector.action>.json` outputs. */
  fixturesDir?: string | undefined;
  tenantConfig?: Record<string, unknown>;
  /** Other workflows, for the plans of sub-workflows (`workflow.run`). */
  workflows?: (id: string) => Workflow | undefined;
  /** How deep this plan is nested in its callers' plans. */
  depth?: number;
}

export async function dryRun(opts: DryRunOptions): Promise<DryRunPlan> {
  const { workflow } = opts;
  const scope: RunScope = {
    workflowId: workflow.id,
    tenantId: opts.tenantId,
    input: opts.input,
    trigger: opts.trigger ?? { type: 'manual', dryRun: true },
    // A sample trigger's `at`, else the time of planning: one time for the whole plan, as in a run.
    now: triggerTime(opts.trigger, new Date()),
    tenant: { id: opts.tenantId, config: opts.tenantConfig ?? {} },
  };
  // Secrets are never read in a dry run: templates show which one would be used.
  const secrets = { get: async (_tenant: string, name: string) => `[secret ${name}]` };
  const states = new Map<string, StepState>();
  const planned: PlannedStep[] = [];
  /** Steps whose planned output is a guess (an example), not a computed or recorded one. */
  const guessed = new Set<string>();
  for (;;) {
    const next = plan(workflow, states, new Date());
    if (next.kind !== 'run' || next.ready.length === 0) break;
    for (const { step } of next.ready) {
      const entry: PlannedStep = { id: step.id, uses: step.uses, action: 'run' };
      try {
        if (!shouldRun(step, scope, states)) {
          states.set(step.id, { stepId: step.id, status: 'skipped', attempt: 1 });
          planned.push({ ...entry, action: 'skip', reason: 'its `if` condition is false' });
          continue;
        }
        if (step.forEach !== undefined) {
          const items = await planItems(opts, step, scope, states, secrets);
          const output = items.map((i) => i.output);
          if (items.some((i) => i.outputSource === 'example' || i.outputSource === 'none'))
            guessed.add(step.id);
          states.set(step.id, { stepId: step.id, status: 'succeeded', attempt: 1, output });
          planned.push({ ...entry, items, output, outputSource: 'items' });
          continue;
        }
        const rendered = await renderInput(secrets, step, scope, states).then(
          (r) => ({ input: r.input, unknown: undefined }),
          (err: unknown) => {
            // Like a plan's "known after apply": the value comes from an output that only a
            // real run (or a recorded fixture) knows.
            if (err instanceof TemplateError && guessed.size > 0)
              return { input: undefined, unknown: knownAfter(err) };
            throw err;
          },
        );
        const wait =
          rendered.input === undefined ? undefined : durableWait(step.uses, rendered.input, new Date());
        if (wait) {
          // A signal's payload may come from a fixture (`<step id>.json`): the plan then follows it.
          const signal =
            step.uses === 'core.waitForSignal' ? await fixtureOutput(opts, step.id, step.uses) : undefined;
          const output = signal ? signal.output : wait.output;
          states.set(step.id, { stepId: step.id, status: 'succeeded', attempt: 1, output });
          planned.push({
            ...entry,
            input: rendered.input,
            resumesAt: wait.until.toISOString(),
            output,
            outputSource: signal?.source ?? 'wait',
          });
          continue;
        }
        if (step.uses === CALL_ACTION && rendered.input !== undefined) {
          const child = await planChild(opts, rendered.input as CallInput);
          const output = child.wait ? (child.plan?.output?.value ?? null) : { runId: '(the child run id)' };
          if (!child.wait || child.plan?.output?.value === undefined) guessed.add(step.id);
          states.set(step.id, { stepId: step.id, status: 'succeeded', attempt: 1, output });
          planned.push({ ...entry, input: rendered.input, child, output, outputSource: 'child' });
          continue;
        }
        const { output, source } = await plannedOutput(opts, step.id, step.uses, rendered.input);
        if (source === 'example' || source === 'none' || rendered.unknown) guessed.add(step.id);
        states.set(step.id, { stepId: step.id, status: 'succeeded', attempt: 1, output });
        planned.push({
          ...entry,
          ...(rendered.unknown ? { unknownInput: rendered.unknown } : { input: rendered.input }),
          output,
          outputSource: source,
        });
      } catch (err) {
        const reason = err instanceof TemplateError || err instanceof Error ? err.message : String(err);
        states.set(step.id, { stepId: step.id, status: 'failed', attempt: 1, error: reason });
        planned.push({ ...entry, action: 'error', reason });
      }
    }
  }
  const readsNow = /"now":/.test(JSON.stringify([workflow.steps, workflow.output ?? null]));
  const result: DryRunPlan = { steps: planned, now: new Date(scope.now).toISOString(), readsNow };
  if (workflow.output !== undefined && !planned.some((s) => s.action === 'error'))
    result.output = plannedRunOutput(workflow, scope, states, guessed);
  return result;
}

function plannedRunOutput(
  workflow: Workflow,
  scope: RunScope,
  states: Map<string, StepState>,
  guessed: Set<string>,
): PlannedOutput {
  try {
    return { value: renderOutput(workflow, scope, states) };
  } catch (err) {
    if (err instanceof TemplateError && guessed.size > 0) return { unknown: knownAfter(err) };
    return { error: (err as Error).message };
  }
}

/** A `forEach` step's items: the list, then each item's input and output, as a run would make them. */
async function planItems(
  opts: DryRunOptions,
  step: Step,
  scope: RunScope,
  states: Map<string, StepState>,
  secrets: { get: (tenant: string, name: string) => Promise<string> },
): Promise<NonNullable<PlannedStep['items']>> {
  const list = await renderList(step, scope, states);
  if (!Array.isArray(list)) throw new Error('forEach must be a list');
  const max = step.maxItems ?? DEFAULT_MAX_ITEMS;
  if (list.length > max) throw new Error(`forEach has ${list.length} items, more than maxItems (${max})`);
  const items: NonNullable<PlannedStep['items']> = [];
  for (const [index, item] of list.entries()) {
    const { input } = await renderInput(secrets, step, scope, states, itemLocals(step, item, index));
    const { output, source } = await plannedOutput(opts, step.id, step.uses, input);
    items.push({ index, input, output, outputSource: source });
  }
  return items;
}

/** The plan of a child workflow, with the input the call renders. */
async function planChild(opts: DryRunOptions, call: CallInput): Promise<NonNullable<PlannedStep['child']>> {
  const wait = call.wait !== false;
  const workflow = opts.workflows?.(call.workflow);
  if (!workflow) return { workflowId: call.workflow, wait, error: `there is no workflow ${call.workflow}` };
  const depth = (opts.depth ?? 0) + 1;
  if (depth > MAX_CALL_DEPTH)
    return { workflowId: call.workflow, wait, error: `nested deeper than ${MAX_CALL_DEPTH} levels` };
  const plan = await dryRun({
    ...opts,
    workflow,
    input: call.input ?? {},
    trigger: { type: 'call', workflowId: opts.workflow.id, dryRun: true },
    depth,
  });
  return { workflowId: call.workflow, wait, plan };
}

/** Information, not an error: which value only a real run (or a recorded fixture) gives. */
function knownAfter(err: TemplateError): string {
  const [root, stepId] = err.path;
  if (root !== 'steps' || stepId === undefined) return `${err.template} reads a value only a real run gives`;
  return `${err.template} reads the output of step ${String(stepId)}, which a real run gives (or --fixtures <dir>/${String(stepId)}.json)`;
}

/** A recorded output for the step (`<step id>.json`, else `<connector.action>.json`), if any. */
async function fixtureOutput(
  opts: DryRunOptions,
  stepId: string,
  uses: string,
): Promise<{ output: unknown; source: string } | undefined> {
  if (!opts.fixturesDir) return undefined;
  for (const name of [`${stepId}.json`, `${uses}.json`]) {
    const file = path.join(opts.fixturesDir, name);
    const text = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined) return { output: JSON.parse(text) as unknown, source: `fixture ${name}` };
  }
  return undefined;
}

async function plannedOutput(
  opts: DryRunOptions,
  stepId: string,
  uses: string,
  input: unknown,
): Promise<{ output: unknown; source: string }> {
  const fixture = await fixtureOutput(opts, stepId, uses);
  if (fixture) return fixture;
  const entry = opts.connectors.action(uses);
  if (entry?.action.readOnly && entry.connector.auth.type === 'none') {
    const result = await executeAttempt(offlineDeps(opts), {
      entry,
      input,
      tenantId: opts.tenantId,
      attempt: 1,
      maxAttempts: 1,
      idempotencyKey: `dry-run:${stepId}`,
      timeoutMs: 5_000,
    });
    if (result.ok) return { output: result.output, source: 'computed' };
  }
  const example = entry?.action.example;
  if (example !== undefined) return { output: example, source: 'example' };
  return { output: null, source: 'none' };
}

/** What an action sees in a dry run: no network, no secrets, no tokens, nothing stored. */
function offlineDeps(opts: DryRunOptions): RuntimeDeps {
  const refuse = async (): Promise<never> => {
    throw new Error('a dry run reaches no network');
  };
  // No run or job owns a dry-run attempt, so nothing reaches the database or the catalogue.
  return {
    db: undefined as never,
    log: silentLogger,
    catalogue: undefined as never,
    connectors: opts.connectors,
    secrets: { get: async () => undefined },
    tokens: { accessToken: refuse },
    audit: new MemoryAuditSink(),
    rateLimiter: new MemoryRateLimiter(),
    connectorConfig: () => ({ settings: {} }),
    processId: 'dry-run',
    fetchImpl: refuse,
  };
}
