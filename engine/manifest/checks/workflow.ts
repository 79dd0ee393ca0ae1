// Cross-checks of one Workflow against the registry and the rest of the catalogue.
import { CronExpressionParser } from 'cron-parser';
import { type ConnectorRegistry, didYouMean, parseDuration } from '../../connector-sdk/index.ts';
import type { ManifestDoc } from '../document.ts';
import { plainValidSchema } from '../plain-schema.ts';
import type { ManifestKind } from '../schemas.ts';
import type { Workflow } from '../types.gen.ts';
import { makeSchemaAjv } from '../validators.ts';
import { checkLogic, checkTemplates } from './expressions.ts';
import type { ScopeModel } from './scope.ts';
import { checkSignalMapping } from './signals.ts';
import { checkSteps, inferSetOutputs, stepInfos } from './steps.ts';

/** Ids of every manifest in the catalogue, by kind (structurally invalid ones included). */
export type CatalogueIds = Record<ManifestKind, ReadonlySet<string>>;

export function checkWorkflow(doc: ManifestDoc, registry: ConnectorRegistry, ids: CatalogueIds): void {
  const workflow = doc.value as unknown as Workflow;
  const model: ScopeModel = {
    roots: ['trigger', 'input', 'steps', 'tenant', 'run', 'secrets'],
    triggerType: workflow.trigger.type,
    input: workflow.input ?? { type: 'object' },
    ...(workflow.config === undefined ? {} : { config: workflow.config }),
    steps: stepInfos(workflow, registry),
  };
  inferSetOutputs(workflow, model);
  checkTrigger(doc, workflow, ids);
  checkSignalMapping(doc, workflow, ids);
  checkInputSchema(doc, workflow);
  if (workflow.agent !== undefined && !ids.Agent.has(workflow.agent)) {
    doc.report(
      ['agent'],
      'reference',
      `there is no Agent "${workflow.agent}"${didYouMean(workflow.agent, ids.Agent)}`,
    );
  }
  if (workflow.concurrency?.key !== undefined) {
    const keyModel = { ...model, roots: ['trigger', 'input', 'tenant'] };
    checkTemplates(doc, workflow.concurrency.key, ['concurrency', 'key'], keyModel);
  }
  const timeout = workflow.defaults?.timeout;
  if (timeout !== undefined && parseDuration(timeout) === 0) {
    doc.report(['defaults', 'timeout'], 'duration', 'timeout must be longer than 0');
  }
  checkSteps(doc, workflow, registry, model);
  if (workflow.output !== undefined) checkOutput(doc, workflow, model);
}

/**
 * `output` is rendered when every step is done: it reads any step (a skipped or failed one
 * needs a fallback, as in a step), never a secret, since the run's output is shown to API
 * clients and stored in plain.
 */
function checkOutput(doc: ManifestDoc, workflow: Workflow, model: ScopeModel): void {
  const all = new Set(workflow.steps.map((s) => s.id));
  checkTemplates(doc, workflow.output, ['output'], {
    ...model,
    roots: model.roots.filter((r) => r !== 'secrets'),
    current: { index: workflow.steps.length, ancestors: all },
  });
}

function checkTrigger(doc: ManifestDoc, workflow: Workflow, ids: CatalogueIds): void {
  const trigger = workflow.trigger;
  const filterModel: ScopeModel = {
    roots: ['trigger', 'tenant'],
    triggerType: trigger.type,
    input: {},
    ...(workflow.config === undefined ? {} : { config: workflow.config }),
    steps: new Map(),
  };
  switch (trigger.type) {
    case 'schedule': {
      const problem = cronProblem(trigger.cron);
      if (problem) doc.report(['trigger', 'cron'], 'cron', problem);
      return;
    }
    case 'webhook':
      if (!ids.WebhookRoute.has(trigger.route)) {
        const hint = didYouMean(trigger.route, ids.WebhookRoute);
        doc.report(['trigger', 'route'], 'reference', `there is no WebhookRoute "${trigger.route}"${hint}`);
      }
      if (trigger.if !== undefined) checkLogic(doc, trigger.if, ['trigger', 'if'], filterModel);
      return;
    case 'event':
      if (trigger.workflow === workflow.id) {
        doc.report(['trigger', 'workflow'], 'reference', 'a workflow cannot be triggered by its own runs');
      } else if (!ids.Workflow.has(trigger.workflow)) {
        const hint = didYouMean(trigger.workflow, ids.Workflow);
        doc.report(['trigger', 'workflow'], 'reference', `there is no Workflow "${trigger.workflow}"${hint}`);
      }
      if (trigger.if !== undefined) checkLogic(doc, trigger.if, ['trigger', 'if'], filterModel);
      return;
    default:
      return;
  }
}

/** A plain reason when a cron line is not five valid fields, else undefined. */
export function cronProblem(cron: string): string | undefined {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) {
    return `cron "${cron}" has ${fields.length} field${fields.length === 1 ? '' : 's'}; write five: minute hour day-of-month month day-of-week (UTC), e.g. "30 8 * * *"`;
  }
  try {
    CronExpressionParser.parse(cron, { tz: 'UTC' });
    return undefined;
  } catch (err) {
    return `cron "${cron}" is not valid: ${(err as Error).message}`;
  }
}

// A strict compile catches misspelled keywords (`requried`) in the input schema, which a
// lenient validator would silently ignore. The function it generates is thrown away, so it
// is generated the cheapest way (strict-mode errors are raised all the same): with about
// sixty `input` and `config` schemas in the catalogue, this halves what they cost.
let inputAjv: ReturnType<typeof makeSchemaAjv> | undefined;
let inputFormats: Set<string> | undefined;

function checkInputSchema(doc: ManifestDoc, workflow: Workflow): void {
  for (const field of ['input', 'config'] as const) {
    const schema = workflow[field];
    if (schema === undefined) continue;
    inputAjv ??= makeSchemaAjv({ allErrors: false, verbose: false, code: { optimize: false } });
    inputFormats ??= new Set(Object.keys(inputAjv.formats));
    if (plainValidSchema(schema, inputFormats)) continue;
    try {
      inputAjv.compile(schema);
    } catch (err) {
      const reason = (err as Error).message.replace(/^strict mode: /, '');
      doc.report([field], 'input-schema', `${field} is not a valid JSON Schema: ${reason}`);
    } finally {
      inputAjv.removeSchema();
    }
  }
}
