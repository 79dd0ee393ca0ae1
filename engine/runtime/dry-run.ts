/**
 * Dry run: the plan of a workflow, like a Terraform plan. Steps are visited in the order
 * the engine would run them; each one's input is rendered, its `if` evaluated, and the
 * output it "returns" comes from a recorded fixture or the action's declared example.
 * Nothing is called and nothing is written.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ConnectorRegistry } from '../connector-sdk/index.ts';
import { TemplateError } from '../expr/index.ts';
import type { Workflow } from '../manifest/types.gen.ts';
import { plan, type StepState } from './plan.ts';
import { type RunScope, renderInput, shouldRun } from './scope.ts';

export interface PlannedStep {
  id: string;
  uses: string;
  action: 'run' | 'skip' | 'error';
  reason?: string;
  input?: unknown;
  output?: unknown;
  /** Where the output came from: a fixture file, the action's example, or nothing. */
  outputSource?: string;
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
}

export async function dryRun(opts: DryRunOptions): Promise<PlannedStep[]> {
  const { workflow } = opts;
  const scope: RunScope = {
    workflowId: workflow.id,
    tenantId: opts.tenantId,
    input: opts.input,
    trigger: opts.trigger ?? { type: 'manual', dryRun: true },
    tenant: { id: opts.tenantId, config: opts.tenantConfig ?? {} },
  };
  // Secrets are never read in a dry run: templates show which one would be used.
  const secrets = { get: async (_tenant: string, name: string) => `[secret ${name}]` };
  const states = new Map<string, StepState>();
  const planned: PlannedStep[] = [];
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
        const { input } = await renderInput(secrets, step, scope, states);
        const { output, source } = await plannedOutput(opts, step.id, step.uses);
        states.set(step.id, { stepId: step.id, status: 'succeeded', attempt: 1, output });
        planned.push({ ...entry, input, output, outputSource: source });
      } catch (err) {
        const reason = err instanceof TemplateError || err instanceof Error ? err.message : String(err);
        states.set(step.id, { stepId: step.id, status: 'failed', attempt: 1, error: reason });
        planned.push({ ...entry, action: 'error', reason });
      }
    }
  }
  return planned;
}

async function plannedOutput(
  opts: DryRunOptions,
  stepId: string,
  uses: string,
): Promise<{ output: unknown; source: string }> {
  if (opts.fixturesDir) {
    for (const name of [`${stepId}.json`, `${uses}.json`]) {
      const file = path.join(opts.fixturesDir, name);
      const text = await fs.readFile(file, 'utf8').catch(() => undefined);
      if (text !== undefined) return { output: JSON.parse(text) as unknown, source: `fixture ${name}` };
    }
  }
  const example = opts.connectors.action(uses)?.action.example;
  if (example !== undefined) return { output: example, source: 'example' };
  return { output: null, source: 'none' };
}
