// Checks a path read by a template or a JSON Logic `var` against what the run scope will
// hold at that point: the trigger's fields, the input schema, the outputs of steps that
// are sure to have finished, the tenant, and secret names.
import { didYouMean, type JsonSchema } from '../../connector-sdk/index.ts';
import {
  formatPath,
  SCOPE_ROOTS,
  type Schema,
  STEP_FIELDS,
  TENANT_FIELDS,
  TRIGGER_FIELDS,
} from '../../expr/index.ts';
import type { Path } from '../source.ts';
import { missingField, schemaAt } from './schema-path.ts';

export interface StepInfo {
  id: string;
  index: number;
  uses: string;
  /** The action's output schema; undefined when the action is unknown. */
  output: JsonSchema | undefined;
  /** Why the step may end without an output: `skipped` (it has an `if`), `failed` (`onError: continue`). */
  mayEndWithout?: string;
}

export interface ScopeModel {
  /** Roots this expression may read (a trigger filter sees no steps, JSON Logic no secrets). */
  roots: readonly string[];
  triggerType: string;
  input: unknown;
  /** The workflow's `config` schema, when it declares one: `tenant.config.*` is checked against it. */
  config?: unknown;
  steps: ReadonlyMap<string, StepInfo>;
  /** The step the expression belongs to, and the steps sure to be done before it. */
  current?: { index: number; ancestors: ReadonlySet<string> };
  /**
   * Names a construct adds to the scope, with the schema of their values (a loop's item
   * under its `as` name, `loop` with its `index`): readable like roots, here only.
   */
  locals?: Readonly<Record<string, Schema>>;
}

/** The fields of `loop` inside a `forEach` step. */
export const LOOP_FIELDS = ['index'] as const;

const SCALAR_WORDS: Record<string, string> = {
  array: 'a list',
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  null: 'null',
};

/** What `run.*` reads: the run's own id and workflow. */
const RUN_FIELDS = ['id', 'workflowId'] as const;

const SECRET_NAME = /^[A-Za-z][A-Za-z0-9_]{0,127}$/;

/** A plain sentence when the path cannot be read, else undefined. */
export function checkScopePath(path: Path, model: ScopeModel): string | undefined {
  const [root, ...rest] = path;
  if (typeof root === 'string' && model.locals && Object.hasOwn(model.locals, root))
    return fieldMessage(model.locals[root], rest, [root], `the ${root} value`);
  if (typeof root !== 'string' || !model.roots.includes(root)) {
    const roots = [...model.roots, ...Object.keys(model.locals ?? {})];
    const known = roots.join(', ');
    const hint = typeof root === 'string' ? didYouMean(root, roots) : '';
    if (typeof root === 'string' && (SCOPE_ROOTS as readonly string[]).includes(root))
      return `${root} cannot be read here (only ${known})`;
    return `unknown root "${String(root)}"${hint || `; expressions read ${known}`}`;
  }
  switch (root) {
    case 'trigger':
      return checkTrigger(rest, model.triggerType);
    case 'input':
      return fieldMessage(model.input, rest, ['input'], 'the workflow input schema');
    case 'tenant':
      if (rest[0] === 'config' && model.config !== undefined)
        return fieldMessage(model.config, rest.slice(1), ['tenant', 'config'], 'the workflow config schema');
      return checkListed(rest, TENANT_FIELDS, 'tenant', ['config']);
    case 'run':
      return checkListed(rest, RUN_FIELDS, 'run', []);
    case 'secrets':
      if (rest.length !== 1 || typeof rest[0] !== 'string' || !SECRET_NAME.test(rest[0])) {
        return 'secrets are read by name, as secrets.NAME (letters, digits and _)';
      }
      return undefined;
    default:
      return checkStep(rest, model);
  }
}

function checkListed(
  rest: Path,
  fields: readonly string[],
  what: string,
  open: readonly string[],
): string | undefined {
  const [field] = rest;
  if (field === undefined) return undefined;
  if (!fields.includes(String(field))) {
    return `${what} has no field "${String(field)}"${didYouMean(String(field), fields) || `; it has ${fields.join(', ')}`}`;
  }
  if (rest.length > 1 && !open.includes(String(field))) return `${what}.${String(field)} has no fields`;
  return undefined;
}

function checkTrigger(rest: Path, type: string): string | undefined {
  const spec = TRIGGER_FIELDS[type];
  if (!spec) return undefined;
  return checkListed(rest, spec.fields, `a ${type} trigger`, spec.open);
}

function fieldMessage(schema: unknown, rest: Path, prefix: Path, owner: string): string | undefined {
  const missing = missingField(schema, rest);
  if (!missing) return undefined;
  const field = String(rest[missing.at]);
  const parent = formatPath([...prefix, ...rest.slice(0, missing.at)]);
  if (missing.scalar)
    return `${parent} is ${SCALAR_WORDS[missing.scalar] ?? missing.scalar}; it has no field "${field}"`;
  const hint =
    didYouMean(field, missing.known) ||
    (missing.known.length > 0 ? ` (it has ${missing.known.join(', ')})` : '');
  return `${parent} has no field "${field}" in ${owner}${hint}`;
}

function checkStep(rest: Path, model: ScopeModel): string | undefined {
  const [id, field, ...deeper] = rest;
  if (id === undefined) return 'read one step, as steps.<id>.output';
  const step = model.steps.get(String(id));
  if (!step) {
    const ids = [...model.steps.keys()];
    return `there is no step "${String(id)}"${didYouMean(String(id), ids) || (ids.length ? `; steps are ${ids.join(', ')}` : '')}`;
  }
  if (model.current) {
    if (step.index >= model.current.index)
      return `step "${step.id}" runs later; only earlier steps can be read`;
    if (!model.current.ancestors.has(step.id)) {
      return `step "${step.id}" may not have finished: add it to this step's needs`;
    }
  }
  if (field === undefined) return undefined;
  if (!(STEP_FIELDS as readonly string[]).includes(String(field))) {
    return `steps.${step.id} has no field "${String(field)}"${didYouMean(String(field), STEP_FIELDS) || '; read steps.<id>.output'}`;
  }
  if (field !== 'output') return deeper.length > 0 ? `steps.${step.id}.${field} has no fields` : undefined;
  return fieldMessage(step.output, deeper, ['steps', step.id, 'output'], `the output of ${step.uses}`);
}

/**
 * The schema of what a path reads, for typing computed values: `{}` (anything) when the path
 * is not readable or the schemas do not say.
 */
export function scopeSchema(path: Path, model: ScopeModel): Schema {
  if (checkScopePath(path, model) !== undefined) return {};
  const [root, ...rest] = path;
  if (typeof root === 'string' && model.locals && Object.hasOwn(model.locals, root))
    return schemaAt(model.locals[root], rest);
  switch (root) {
    case 'input':
      return schemaAt(model.input, rest);
    case 'tenant':
      return rest[0] === 'config' && model.config !== undefined ? schemaAt(model.config, rest.slice(1)) : {};
    case 'steps': {
      const [id, field, ...deeper] = rest;
      if (field !== 'output') return field === 'status' ? { type: 'string' } : {};
      return schemaAt(model.steps.get(String(id))?.output, deeper);
    }
    case 'run':
      return rest.length === 1 ? { type: 'string' } : {};
    case 'trigger':
      return rest.length === 1 && ['type', 'at', 'route', 'eventType'].includes(String(rest[0]))
        ? { type: 'string' }
        : {};
    default:
      return {};
  }
}
