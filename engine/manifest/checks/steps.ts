// Cross-checks of a workflow's steps: ids, `uses`, `needs`, `with` against the action's
// input schema, templates, `if`, and policies.
import {
  type ConnectorRegistry,
  describeErrors,
  didYouMean,
  type JsonSchema,
  parseDuration,
  splitUses,
} from '../../connector-sdk/index.ts';
import {
  findExprs,
  hasExpr,
  literalType,
  type Schema,
  templateRefs,
  typeFits,
  typeNames,
  typeWords,
  union,
} from '../../expr/index.ts';
import type { ManifestDoc } from '../document.ts';
import type { Step, Workflow } from '../types.gen.ts';
import { actionInputValidator } from '../validators.ts';
import { checkLogic, checkTemplates, exprType } from './expressions.ts';
import { checkLoop, itemSchema, loopLocals } from './loops.ts';
import { schemaAt } from './schema-path.ts';
import { type ScopeModel, type StepInfo, scopeSchema } from './scope.ts';

/** Steps by id with their position and output schema (first occurrence wins on duplicates). */
export function stepInfos(workflow: Workflow, registry: ConnectorRegistry): Map<string, StepInfo> {
  const infos = new Map<string, StepInfo>();
  workflow.steps.forEach((step, index) => {
    if (infos.has(step.id)) return;
    infos.set(step.id, {
      id: step.id,
      index,
      uses: step.uses,
      output: loopOutput(step, registry.action(step.uses)?.action.output),
      ...skippable(step),
    });
  });
  return infos;
}

/** A `forEach` step outputs the list of its items' outputs. */
function loopOutput(step: Step, output: JsonSchema | undefined): JsonSchema | undefined {
  if (step.forEach === undefined) return output;
  return { type: 'array', items: output ?? {} };
}

/**
 * What a `core.set` step outputs is its `value`, so its output schema is known from the
 * literal: fields, literal types, the schemas of whole templates and the types of `$expr`
 * values. Later templates reading `steps.<id>.output.*` are then checked against it.
 */
export function inferSetOutputs(workflow: Workflow, model: ScopeModel): void {
  const ancestors = ancestorSets(workflow.steps);
  workflow.steps.forEach((step, i) => {
    const info = model.steps.get(step.id);
    if (step.uses !== 'core.set' || info?.index !== i || !step.with || !Object.hasOwn(step.with, 'value'))
      return;
    const stepModel: ScopeModel = { ...model, current: { index: i, ancestors: ancestors[i]! } };
    if (step.forEach === undefined) {
      (info as { output: unknown }).output = valueSchema(step.with.value, stepModel);
      return;
    }
    const items = Array.isArray(step.forEach) ? {} : itemSchema(step.forEach, stepModel).items;
    const value = valueSchema(step.with.value, { ...stepModel, locals: loopLocals(step, items) });
    (info as { output: unknown }).output = loopOutput(step, value);
  });
}

/** The schema of what a `with` value renders to. */
export function valueSchema(value: unknown, model: ScopeModel): Schema {
  if (hasExpr(value)) return Object.keys(value).length === 1 ? exprType(value.$expr, model) : {};
  if (typeof value === 'string') {
    const refs = templateRefs(value);
    if (refs.length === 0) return { type: 'string' };
    const [ref] = refs;
    if (refs.length === 1 && ref!.whole)
      return ref!.hasFallback || ref!.error ? {} : scopeSchema(ref!.path, model);
    return { type: 'string' };
  }
  if (Array.isArray(value)) return { type: 'array', items: union(value.map((v) => valueSchema(v, model))) };
  if (value !== null && typeof value === 'object') {
    const properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, valueSchema(v, model)]));
    return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
  }
  return literalType(value);
}

function skippable(step: Step): { mayEndWithout?: string } {
  const ways = [
    ...(step.if === undefined ? [] : ['skipped (it has an `if`)']),
    ...(step.onError === 'continue' ? ['failed (`onError: continue`)'] : []),
  ];
  return ways.length === 0 ? {} : { mayEndWithout: ways.join(' or ') };
}

/**
 * The steps certainly finished before each step runs: a step without `needs` waits for the
 * one before it (and so for all earlier ones); a step with `needs` waits only for those.
 */
function ancestorSets(steps: readonly Step[]): Set<string>[] {
  const sets: Set<string>[] = [];
  const byId = new Map<string, number>();
  steps.forEach((step, i) => {
    const set = new Set<string>();
    const parents = step.needs ?? (i > 0 ? [steps[i - 1]!.id] : []);
    for (const parent of parents) {
      const j = byId.get(parent);
      if (j === undefined || j >= i) continue;
      set.add(parent);
      for (const id of sets[j]!) set.add(id);
    }
    sets.push(set);
    if (!byId.has(step.id)) byId.set(step.id, i);
  });
  return sets;
}

export function checkSteps(
  doc: ManifestDoc,
  workflow: Workflow,
  registry: ConnectorRegistry,
  model: ScopeModel,
): void {
  const ancestors = ancestorSets(workflow.steps);
  const firstIndex = new Map<string, number>();
  workflow.steps.forEach((step, i) => {
    const at = ['steps', i];
    const seen = firstIndex.get(step.id);
    if (seen === undefined) firstIndex.set(step.id, i);
    else
      doc.report([...at, 'id'], 'duplicate-step', `step id "${step.id}" is already used by steps[${seen}]`);
    const stepModel: ScopeModel = { ...model, current: { index: i, ancestors: ancestors[i]! } };
    const locals = checkLoop(doc, step, at, stepModel);
    const itemModel: ScopeModel = locals ? { ...stepModel, locals } : stepModel;
    if (knownAction(doc, step, i, registry)) checkInput(doc, step, i, registry, itemModel);
    checkNeeds(doc, step, i, model);
    checkTemplates(doc, step.with ?? {}, [...at, 'with'], itemModel);
    if (step.if !== undefined) {
      checkLogic(doc, step.if, [...at, 'if'], {
        ...stepModel,
        roots: model.roots.filter((r) => r !== 'secrets'),
      });
    }
    checkPolicy(doc, step, at);
    if (step.onTimeout !== undefined) {
      if (step.uses !== 'core.waitForSignal')
        doc.report([...at, 'onTimeout'], 'on-timeout', 'onTimeout only applies to core.waitForSignal', {
          key: true,
        });
      else
        checkTemplates(doc, step.onTimeout.output, [...at, 'onTimeout', 'output'], {
          ...stepModel,
          roots: model.roots.filter((r) => r !== 'secrets'),
        });
    }
  });
}

/** Whether the action `uses` names is registered; when it is not, says so with a suggestion. */
function knownAction(doc: ManifestDoc, step: Step, i: number, registry: ConnectorRegistry): boolean {
  if (registry.action(step.uses)) return true;
  const at = ['steps', i, 'uses'];
  const split = splitUses(step.uses);
  const connector = split && registry.connector(split.connectorId);
  const suggestion = registry.suggest(step.uses);
  const hint = suggestion ? `; did you mean "${suggestion}"?` : '';
  if (connector) {
    const known = connector.actions.map((a) => a.id).join(', ');
    doc.report(
      at,
      'unknown-action',
      `connector "${connector.id}" has no action "${split!.actionId}"${hint || ` (it has ${known})`}`,
    );
  } else {
    const ids = registry.connectors().map((c) => c.id);
    const near =
      hint || didYouMean(split?.connectorId ?? step.uses, ids) || ` (connectors: ${ids.join(', ')})`;
    doc.report(
      at,
      'unknown-action',
      `no connector "${split?.connectorId ?? step.uses}" is registered${near}`,
    );
  }
  return false;
}

/**
 * Literal `with` values must fit the input schema, and `$expr` values must compute a type
 * the field takes; templated values are checked at run time.
 */
function checkInput(
  doc: ManifestDoc,
  step: Step,
  i: number,
  registry: ConnectorRegistry,
  model: ScopeModel,
): void {
  const value = step.with ?? {};
  const exprs = findExprs(value);
  const input = registry.action(step.uses)?.action.input;
  for (const { node, at } of exprs) {
    if (Object.keys(node).length !== 1) continue;
    const expected = typeNames(schemaAt(input, at));
    const actual = typeNames(exprType(node.$expr, model));
    if (!expected || !actual || typeFits(actual, expected)) continue;
    doc.report(
      ['steps', i, 'with', ...at],
      'expr-type',
      `this $expr computes ${typeWords(actual)}, but ${at.map(String).join('.')} of ${step.uses} takes ${typeWords(expected)}`,
      { key: true },
    );
  }
  const validate = actionInputValidator(registry, step.uses);
  if (validate(value)) return;
  const templated = [...templateRefs(value).map((ref) => ref.at), ...exprs.map((e) => e.at)].map(
    (at) => `/${at.map(String).join('/')}`,
  );
  const errors = (validate.errors ?? []).filter(
    (e) => !templated.some((t) => e.instancePath === t || e.instancePath.startsWith(`${t}/`)),
  );
  const prefixed = errors.map((e) => ({ ...e, instancePath: `/with${e.instancePath}` }));
  for (const issue of describeErrors(prefixed)) {
    const message = `${issue.message} (input of ${step.uses})`;
    doc.report(['steps', i, ...issue.path], 'input', message, { key: issue.atKey });
  }
}

function checkNeeds(doc: ManifestDoc, step: Step, i: number, model: ScopeModel): void {
  (step.needs ?? []).forEach((need, k) => {
    const at = ['steps', i, 'needs', k];
    const target = model.steps.get(need);
    if (!target) {
      const earlier = [...model.steps.values()].filter((s) => s.index < i).map((s) => s.id);
      const hint = didYouMean(need, earlier) || didYouMean(need, model.steps.keys());
      doc.report(at, 'needs', `needs "${need}", but there is no step "${need}"${hint}`);
    } else if (target.index >= i) {
      doc.report(
        at,
        'needs',
        `needs "${need}", which ${target.index === i ? 'is this step' : 'comes later'}; a step can only wait for earlier steps`,
      );
    }
  });
}

function checkPolicy(doc: ManifestDoc, step: Step, at: (string | number)[]): void {
  if (step.timeout !== undefined && parseDuration(step.timeout) === 0) {
    doc.report([...at, 'timeout'], 'duration', 'timeout must be longer than 0');
  }
  const backoff = step.retry?.backoff;
  if (backoff?.initial && backoff.max && parseDuration(backoff.initial) > parseDuration(backoff.max)) {
    doc.report(
      [...at, 'retry', 'backoff', 'initial'],
      'duration',
      `backoff initial (${backoff.initial}) is longer than its max (${backoff.max})`,
    );
  }
}
