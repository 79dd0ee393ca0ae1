/**
 * The data a run's templates and `if` conditions read, and the rendering of a step's input.
 */

import { tenantScope } from '../db/tenant-workflows.ts';
import { evaluate, isTruthy, render, renderSync, templateRefs } from '../expr/index.ts';
import { makeRedactor, type Redactor } from '../hub/index.ts';
import type { Step, Workflow } from '../manifest/types.gen.ts';
import type { RuntimeDeps, SecretStore } from './deps.ts';
import type { StepState } from './plan.ts';

export interface RunScope {
  workflowId: string;
  tenantId: string;
  input: unknown;
  trigger: unknown;
  tenant: { id: string; name?: string; config: Record<string, unknown> } | undefined;
}

const tenantReaders = new WeakMap<Workflow, boolean>();

/** Whether any template or condition of the workflow reads `tenant.*` (else it is not loaded). */
export function readsTenant(workflow: Workflow): boolean {
  let reads = tenantReaders.get(workflow);
  if (reads === undefined) {
    const text = JSON.stringify(workflow.steps);
    reads =
      templateRefs(workflow.steps).some((ref) => ref.path[0] === 'tenant') || /"var":\s*"tenant\./.test(text);
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
  };
}

/** `if`: JSON Logic over the run's data; a step without one always runs. */
export function shouldRun(step: Step, scope: RunScope, states: Map<string, StepState>): boolean {
  if (step.if === undefined) return true;
  return isTruthy(evaluate(step.if, dataOf(scope, states)));
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
  return renderSync(value, dataOf(scope, states));
}

/** A `forEach` step's list (secrets are not read here: the list is stored in the ledger). */
export async function renderList(
  step: Step,
  scope: RunScope,
  states: Map<string, StepState>,
): Promise<unknown> {
  return render(step.forEach, dataOf(scope, states));
}

/** The names one item's templates read besides the run scope. */
export function itemLocals(step: Step, item: unknown, index: number): Record<string, unknown> {
  return { [step.as ?? 'item']: item, loop: { index } };
}
