// n8n's item lists as Atlas loops. A Split Out node turns one item's list field into items;
// every node after it runs once per item, which Atlas writes as a `forEach` step over the
// list (the item is `item`); an Aggregate node gathers the items back into one.

import { varOf } from './compute.ts';
import { isProblem, type Path, Problem, templatePath } from './expressions.ts';
import { isObject, type Mapping, type NodeContext, step } from './node-kit.ts';

/** The items a node receives when they come from a list: where the list is, and item paths. */
export interface Items {
  /** The list in the run scope (`steps.fetch.output.body.items`). */
  path: Path;
  /** A field of the n8n item → its place under `item`, or why it has none. */
  item(path: Path): Path | Problem;
}

/** Split Out: the list field of the (single) input item becomes the items of the nodes after it. */
export function splitOut(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  if (ctx.items) return new Problem('splitting items that are already a list; Atlas loops do not nest');
  const field = String(p['fieldToSplitOut'] ?? '');
  if (field === '' || field.includes(',') || field.startsWith('='))
    return new Problem('it splits several fields, or a field named by an expression; split one field');
  if (String(p['include'] ?? 'noOtherFields') !== 'noOtherFields')
    return new Problem(
      "it keeps the input's other fields in every item; read them from the step before instead",
    );
  const path = ctx.resolve(null, field.split('.'));
  if (isProblem(path)) return path;
  const text = templatePath(path);
  if (isProblem(text)) return text;
  const last = field.split('.').at(-1)!;
  return {
    kind: 'split',
    items: {
      path,
      // An item is the list element: its fields, or (a plain value) the element under the field's name.
      item: (q) => (q.length === 1 && q[0] === last ? ['item'] : ['item', ...q]),
    },
  };
}

/**
 * Loop Over Items (Split In Batches 3) one item at a time: its body runs per item, which the
 * items it receives already are in Atlas (after a Split Out). Its "done" output is left to an
 * explicit failing step (gather the body's items with an Aggregate after the body instead).
 */
export function loopOverItems(ctx: NodeContext): Mapping {
  if (!ctx.items)
    return new Problem('it loops over items that are one value in Atlas; split the list first (Split Out)');
  const p = ctx.node.parameters;
  const size = p['batchSize'] ?? 1;
  if (size !== 1) return new Problem(`batches of ${String(size)} items; Atlas loops one item at a time`);
  if (isObject(p['options']) && p['options']['reset'] === true)
    return new Problem('a loop that resets on every pass; Atlas loops once over a list');
  return { kind: 'split', items: ctx.items, done: true };
}

/** Limit: the first (or last) items of the list; the nodes after it loop over the shorter list. */
export function limit(ctx: NodeContext): Mapping {
  const items = ctx.items;
  if (!items)
    return new Problem('it limits items that are one value in Atlas; split the list first (Split Out)');
  const p = ctx.node.parameters;
  const max = p['maxItems'] ?? 1;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1)
    return new Problem('a limit that is not a whole number of items');
  const list = varOf(items.path);
  if (isProblem(list)) return list;
  const rule =
    String(p['keep'] ?? 'firstItems') === 'lastItems' ? { slice: [list, -max] } : { slice: [list, 0, max] };
  const mapping = step('core.set', { value: { $expr: rule } }, items.item);
  return isProblem(mapping) || mapping.kind !== 'step'
    ? mapping
    : { ...mapping, gathers: true, emits: items.item };
}

/** Aggregate: the items' values of some fields, or the items themselves, as lists in one item. */
export function aggregate(ctx: NodeContext): Mapping {
  const items = ctx.items;
  if (!items) return new Problem('it gathers items, but its input is a single item; read the list directly');
  const p = ctx.node.parameters;
  const options = isObject(p['options']) ? p['options'] : {};
  const list = varOf(items.path);
  if (isProblem(list)) return list;
  const listText = templatePath(items.path);
  if (isProblem(listText)) return listText;
  if (String(p['aggregate'] ?? 'aggregateIndividualFields') === 'aggregateAllItemData') {
    const dest = String(p['destinationFieldName'] ?? 'data');
    if (dest === '' || dest.includes('.') || dest.startsWith('='))
      return new Problem(`the field "${dest}" cannot be set`);
    ctx.note(`"${ctx.node.name}" gathers each item as the step before it output it in Atlas`);
    return gathering(
      step('core.set', { value: { [dest]: `{{ ${listText} }}` } }, (q) =>
        q[0] === dest ? q : new Problem(`"${ctx.node.name}" outputs only "${dest}"`),
      ),
    );
  }
  if (options['mergeLists'] === true)
    return new Problem('merging the aggregated lists into one; use a computed value');
  const group = isObject(p['fieldsToAggregate']) ? p['fieldsToAggregate']['fieldToAggregate'] : undefined;
  if (!Array.isArray(group) || group.length === 0) return new Problem('it aggregates no field');
  const value: Record<string, unknown> = {};
  for (const entry of group) {
    if (!isObject(entry)) continue;
    const field = String(entry['fieldToAggregate'] ?? '');
    const out = entry['renameField'] === true ? String(entry['outputFieldName'] ?? '') : field;
    if (field === '' || field.startsWith('=') || out === '' || out.includes('.') || out.startsWith('='))
      return new Problem(`the field "${field}" cannot be aggregated as "${out}"`);
    const at = items.item(field.split('.'));
    if (isProblem(at)) return at;
    // A `var` inside `map` reads the element; "" is the element itself.
    const inner = varOf(at.slice(1));
    if (isProblem(inner)) return inner;
    const mapped = { map: [list, inner.var === '' ? { var: '' } : inner] };
    // n8n leaves out missing and null values unless told to keep them.
    value[out] = {
      $expr: options['keepMissing'] === true ? mapped : { filter: [mapped, { '!=': [{ var: '' }, null] }] },
    };
  }
  const own = new Set(Object.keys(value));
  return gathering(
    step('core.set', { value }, (q) =>
      own.has(String(q[0])) ? q : new Problem(`"${ctx.node.name}" outputs only ${[...own].join(', ')}`),
    ),
  );
}

const gathering = (mapping: Mapping): Mapping =>
  isProblem(mapping) || mapping.kind !== 'step' ? mapping : { ...mapping, gathers: true };

/** The `forEach` text of a list (its path was checked to be writable when the items were made). */
export function loopOver(items: Items): string {
  return `{{ ${templatePath(items.path) as string} }}`;
}

/**
 * The items a per-item step outputs: the step's output list, each item being what the step
 * output for it. `perItem` maps an n8n field to the step's output path (`steps.<id>.output...`).
 */
export function eachItem(id: string, perItem: (path: Path) => Path | Problem): Items {
  const prefix = ['steps', id, 'output'];
  return {
    path: prefix,
    item: (q) => {
      const at = perItem(q);
      if (isProblem(at)) return at;
      if (at.length < 3 || at[0] !== 'steps' || at[1] !== id)
        return new Problem(
          'a field the step before a loop item kept from its input; Atlas items carry only the step output',
        );
      return ['item', ...at.slice(3)];
    },
  };
}
