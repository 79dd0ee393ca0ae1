/**
 * The data a run's templates and `if` conditions read, and the rendering of a step's input.
 */

import { tenantScope } from '../db/tenant-workflows.ts';
import { evaluate, isTruthy, logicData, render, renderSync, templateRefs } from '../expr/index.ts';
import { makeRedactor, type Redactor } from '../hub/index.ts';
import type { Step, Workflow } from '../manifest/types.gen.ts';
import type { RuntimeDeps, SecretStore } from './deps.ts';
import type { StepState } from './plan.ts';

export interface RunScope {
  /** The run's id (`run.id` in templates); a dry run has none. */
  runId?: string;
  workflowId: string;
  tenantId: string;
  input: unknown;
  trigger: unknown;
  /**
   * What `now` answers in `$expr` and `if`: the run's recorded trigger time (`trigger.at`), the
   * same in every step, attempt, retry and the output, never the clock at the moment of rendering.
   */
  now: Date | string;
  tenant: { id: string; name?: string; config: Record<string, unknown> } | undefined;
}

const tenantReaders = new WeakMap<Workflow, boolean>();

/** Whether any template or condition of the workflow reads `tenant.*` (else it is not loaded). */
export function readsTenant(workflow: Workflow): boolean {
  let reads = tenantReaders.get(workflow);
  if (reads === undefined) {
    const read = [workflow.steps, workflow.output ?? null];
    const text = JSON.stringify(read);
    reads = templateRefs(read).some((ref) => ref.path[0] === 'tenant') || /"var":\s*"tenant\./.test(text);
    tenantReaders.set(workflow, reads);
  }
  return reads;
}

/** A tenant's name and its configuration for this workflow (`tenant.config.*`). */
export async function loadTenantScope(
  deps: RuntimeDeps,
  tenantId: string,
  workflowId: string,
): Promise<RunScope['tenant']> {
  return tenantScope(deps.db, tenantId, workflowId);
}

export function stepOutputs(
  states: Map<string, StepState>,
): Record<string, { output?: unknown; status?: string }> {
  const steps: Record<string, { output?: unknown; status?: string }> = {};
  for (const [id, s] of states) steps[id] = { output: s.output, status: s.status };
  return steps;
}

function dataOf(scope: RunScope, states: Map<string, StepState>) {
  const tenant = scope.tenant ?? { id: scope.tenantId, config: {} };
  return {
    input: scope.input,
    trigger: scope.trigger,
    steps: stepOutputs(states),
    tenant,
    run: { id: scope.runId ?? '(the run id)', workflowId: scope.workflowId },
  };
}

/** `if`: JSON Logic over the run's data; a step without one always runs. */
export function shouldRun(step: Step, scope: RunScope, states: Map<string, StepState>): boolean {
  if (step.if === undefined) return true;
  return isTruthy(evaluate(step.if, logicData(dataOf(scope, states)), scope.now));
}

/** When the run was triggered, as its trigger records it (`trigger.at`), else `fallback`. */
export function triggerTime(trigger: unknown, fallback: Date): Date | string {
  const at = (trigger as { at?: unknown } | null)?.at;
  return typeof at === 'string' && !Number.isNaN(Date.parse(at)) ? at : fallback;
}

/**
 * The run's `output`: the workflow's `output:` rendered over the finished steps (no secrets:
 * the output is stored and shown in plain). Undefined when the workflow declares none.
 */
export function renderOutput(workflow: Workflow, scope: RunScope, states: Map<string, StepState>): unknown {
  if (workflow.output === undefined) return undefined;
  return renderSync(workflow.output, { ...dataOf(scope, states), secrets: {}, now: scope.now });
}

export interface RenderedInput {
  /** What the action receives, secrets resolved. */
  input: unknown;
  /** What the ledger keeps: the same with every secret value replaced. */
  stored: unknown;
  redactor: Redactor;
}

export async function renderInput(
  secrets: SecretStore,
  step: Step,
  scope: RunScope,
  states: Map<string, StepState>,
  /** A `forEach` item and `loop`, for one item's input. */
  locals?: Record<string, unknown>,
): Promise<RenderedInput> {
  const redactor = makeRedactor();
  const input = await render(step.with ?? {}, {
    ...dataOf(scope, states),
    ...(locals ? { locals } : {}),
    now: scope.now,
    secrets: async (name: string) => {
      const value = await secrets.get(scope.tenantId, name);
      redactor.add(value);
      return value;
    },
  });
  return { input, stored: redactor.redact(input), redactor };
}

/** A value with templates over the run's data (no secrets): a wait's `onTimeout` output. */
export function renderValue(value: unknown, scope: RunScope, states: Map<string, StepState>): unknown {
  return renderSync(value, { ...dataOf(scope, states), now: scope.now });
}

/** A `forEach` step's list (secrets are not read here: the list is stored in the ledger). */
export async function renderList(
  step: Step,
  scope: RunScope,
  states: Map<string, StepState>,
): Promise<unknown> {
  return render(step.forEach, { ...dataOf(scope, states), now: scope.now });
}

/** The names one item's templates read besides the run scope. */
export function itemLocals(step: Step, item: unknown, index: number): Record<string, unknown> {
  return { [step.as ?? 'item']: item, loop: { index } };
}
