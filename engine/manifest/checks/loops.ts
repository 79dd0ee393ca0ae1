// Cross-checks of a `forEach` step: its list, its item name, and what its templates may read.
import { formatPath, SCOPE_ROOTS, type Schema, templateRefs } from '../../expr/index.ts';
import type { ManifestDoc } from '../document.ts';
import type { Step } from '../types.gen.ts';
import { checkTemplates } from './expressions.ts';
import { schemaAt } from './schema-path.ts';
import type { ScopeModel } from './scope.ts';

const LOOP_ONLY = ['as', 'concurrency', 'onItemError', 'maxItems'] as const;

/**
 * `forEach` must read a list, and its item name must not hide a root; returns the names its
 * `with` may read besides the run scope (the item, with the items' schema when known, and
 * `loop`), or undefined for a step without `forEach`.
 */
export function checkLoop(
  doc: ManifestDoc,
  step: Step,
  at: (string | number)[],
  model: ScopeModel,
): Record<string, Schema> | undefined {
  if (step.forEach === undefined) {
    for (const field of LOOP_ONLY) {
      if (step[field] !== undefined)
        doc.report([...at, field], 'for-each', `${field} only applies to a step with forEach`, { key: true });
    }
    return undefined;
  }
  if (step.uses === 'workflow.run') {
    doc.report(
      [...at, 'forEach'],
      'for-each',
      'workflow.run cannot run per item of a forEach; call one child workflow that loops instead',
      { key: true },
    );
  }
  const durable =
    step.uses === 'core.waitUntil' ||
    step.uses === 'core.waitForSignal' ||
    (step.uses === 'core.sleep' && step.with?.duration !== undefined);
  if (durable) {
    doc.report(
      [...at, 'forEach'],
      'for-each',
      'a durable wait parks the whole run; it cannot run per item of a forEach',
      {
        key: true,
      },
    );
  }
  const name = step.as ?? 'item';
  if ((SCOPE_ROOTS as readonly string[]).includes(name) || name === 'loop') {
    doc.report([...at, 'as'], 'for-each', `as: "${name}" would hide ${name}; choose another name`);
  }
  const items = Array.isArray(step.forEach) ? {} : listItems(doc, step.forEach, [...at, 'forEach'], model);
  return loopLocals(step, items);
}

/** The names a `forEach` step binds for its templates: its item (`as`) and `loop`. */
export function loopLocals(step: Step, items: Schema): Record<string, Schema> {
  return {
    [step.as ?? 'item']: items,
    loop: { type: 'object', properties: { index: { type: 'integer' } }, additionalProperties: false },
  };
}

/** The schema of a `forEach` template's items, `{}` (anything) when the producer does not say. */
export function itemSchema(
  text: string,
  model: ScopeModel,
): { list: Schema; items: Schema; ref?: ReturnType<typeof templateRefs>[number] } {
  const refs = templateRefs(text);
  const ref = refs[0];
  if (refs.length !== 1 || ref!.raw !== text.trim() || ref!.error) return { list: {}, items: {} };
  const [root, id, field, ...deeper] = ref!.path;
  let list: Schema = {};
  if (root === 'steps' && field === 'output') list = schemaAt(model.steps.get(String(id))?.output, deeper);
  else if (root === 'input') list = schemaAt(model.input, ref!.path.slice(1));
  const items = list.type === 'array' && isObject(list.items) ? (list.items as Schema) : {};
  return { list, items, ref };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Checks the `forEach` template; returns its items' schema (`{}` when the producer does not say). */
function listItems(doc: ManifestDoc, text: string, at: (string | number)[], model: ScopeModel): Schema {
  const refs = templateRefs(text, at);
  const whole = refs.length === 1 && refs[0]!.raw === text.trim();
  if (!whole) {
    doc.report(
      at,
      'for-each',
      'forEach must be a list: write one template, such as {{ steps.list.output.items }}',
    );
    return {};
  }
  checkTemplates(doc, text, at, model);
  const { list, items, ref } = itemSchema(text, model);
  if (!ref) return {};
  const type = list.type;
  if (typeof type === 'string' && type !== 'array') {
    doc.report(
      at,
      'for-each',
      `forEach must be a list, but ${formatPath(ref.path)} is ${type === 'object' ? 'an object' : `a ${type}`}`,
      {
        needle: ref.raw,
      },
    );
    return {};
  }
  return items;
}
