// Computed values: `{ $expr: <JSON Logic rule> }` anywhere a template may stand (a `with`
// value, the workflow's `output`). `var` reads the same scope as templates, without
// `secrets`; strings inside the rule are literals (a template there is never rendered, so a
// value read at run time can never become a rule).
//
// The static checks know each rule's result type as a JSON Schema (`inferType`), so a
// `core.set` output, an action input or a later template can be checked against it. The type
// of a `var` comes from a resolver the caller gives: the checks resolve the run scope's
// paths (and any local names a construct adds, such as a loop's item) to schemas.
import { type Path, splitDotted } from './path.ts';

export const EXPR_KEY = '$expr';

/** A JSON Schema; `{}` is "anything". */
export type Schema = Record<string, unknown>;

/** True for `{ $expr: rule }` (and for a malformed object that has `$expr` beside other keys). */
export function hasExpr(value: unknown): value is Record<string, unknown> {
  return (
    value !== null && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, EXPR_KEY)
  );
}

/** Why a value holding `$expr` is malformed, or undefined. */
export function exprShapeProblem(value: Record<string, unknown>): string | undefined {
  const others = Object.keys(value).filter((k) => k !== EXPR_KEY);
  if (others.length === 0) return undefined;
  return `$expr stands alone in its object: write { $expr: <rule> } without ${others.map((k) => `"${k}"`).join(', ')}`;
}

/** Every `{ $expr }` inside a value, with its place (rules are not searched further). */
export function findExprs(value: unknown, at: Path = []): Array<{ node: Record<string, unknown>; at: Path }> {
  const found: Array<{ node: Record<string, unknown>; at: Path }> = [];
  const visit = (v: unknown, where: Path) => {
    if (hasExpr(v)) found.push({ node: v, at: where });
    else if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) visit(item, [...where, i]);
    } else if (v !== null && typeof v === 'object')
      for (const [key, item] of Object.entries(v)) visit(item, [...where, key]);
  };
  visit(value, at);
  return found;
}

/** Resolves a `var` path to the schema of what it reads; `{}` when unknown. */
export type TypeResolver = (path: Path) => Schema;

const OPEN: Schema = {};
const STRING: Schema = { type: 'string' };
const DATE: Schema = { type: 'string', format: 'date-time' };
const NUMBER: Schema = { type: 'number' };
const INTEGER: Schema = { type: 'integer' };
const BOOLEAN: Schema = { type: 'boolean' };

const RESULT: Record<string, Schema> = {
  '==': BOOLEAN,
  '===': BOOLEAN,
  '!=': BOOLEAN,
  '!==': BOOLEAN,
  '>': BOOLEAN,
  '>=': BOOLEAN,
  '<': BOOLEAN,
  '<=': BOOLEAN,
  '!': BOOLEAN,
  '!!': BOOLEAN,
  in: BOOLEAN,
  all: BOOLEAN,
  none: BOOLEAN,
  some: BOOLEAN,
  cat: STRING,
  substr: STRING,
  lower: STRING,
  upper: STRING,
  join: STRING,
  date_format: STRING,
  now: DATE,
  date_add: DATE,
  '+': NUMBER,
  '-': NUMBER,
  '*': NUMBER,
  '/': NUMBER,
  '%': NUMBER,
  min: NUMBER,
  max: NUMBER,
  sum: NUMBER,
  length: INTEGER,
  split: { type: 'array', items: STRING },
  missing: { type: 'array', items: STRING },
  missing_some: { type: 'array', items: STRING },
  merge: { type: 'array' },
};

/** The schema of what a literal (not a rule) is. */
export function literalType(value: unknown): Schema {
  if (value === null) return { type: 'null' };
  if (typeof value === 'string') return STRING;
  if (typeof value === 'boolean') return BOOLEAN;
  if (typeof value === 'number') return Number.isInteger(value) ? INTEGER : NUMBER;
  return OPEN;
}

function isRule(node: unknown): node is Record<string, unknown> {
  return node !== null && typeof node === 'object' && !Array.isArray(node) && Object.keys(node).length === 1;
}

/**
 * The result type of a JSON Logic rule. `resolve` answers `var`s of the scope; inside a
 * `map`/`filter`/... body, `var` reads the current item, typed from the list's `items`.
 */
export function inferType(rule: unknown, resolve: TypeResolver): Schema {
  if (Array.isArray(rule)) return { type: 'array', items: union(rule.map((r) => inferType(r, resolve))) };
  if (!isRule(rule)) return literalType(rule);
  const [op] = Object.keys(rule) as [string];
  const raw = rule[op];
  const args = Array.isArray(raw) ? raw : [raw];
  const arg = (i: number) => inferType(args[i], resolve);
  switch (op) {
    case 'var': {
      const name = args[0];
      if (typeof name !== 'string' && typeof name !== 'number') return OPEN;
      const found = resolve(splitDotted(String(name)));
      return args.length > 1 ? union([found, arg(1)]) : found;
    }
    case 'if':
    case '?:':
      // [cond, then, cond, then, ..., else]: the results are the odd places and the last.
      return union(args.flatMap((_, i) => (i % 2 === 1 || i === args.length - 1 ? [arg(i)] : [])));
    case 'and':
    case 'or':
      return union(args.map((_, i) => arg(i)));
    case 'default':
      return union(args.map((_, i) => arg(i)).filter((s) => s.type !== 'null'));
    case 'slice':
      return typeNames(arg(0))?.length === 1 ? { type: typeNames(arg(0))![0] } : OPEN;
    case 'map': {
      const items = itemsOf(arg(0));
      return { type: 'array', items: inferType(args[1], itemResolver(items)) };
    }
    case 'filter': {
      const list = arg(0);
      return { type: 'array', items: itemsOf(list) };
    }
    default:
      return RESULT[op] ?? OPEN;
  }
}

function itemsOf(list: Schema): Schema {
  const items = list.items;
  return items !== null && typeof items === 'object' && !Array.isArray(items) ? (items as Schema) : OPEN;
}

/** Inside an iterating body, `var` reads the item: `""` is the item, `a.b` a field of it. */
function itemResolver(item: Schema): TypeResolver {
  return (path) => {
    let current: Schema = item;
    for (const segment of path) {
      const props = current.properties as Record<string, Schema> | undefined;
      if (typeof segment === 'string' && props && Object.hasOwn(props, segment)) current = props[segment]!;
      else if (typeof segment === 'number' && current.type === 'array') current = itemsOf(current);
      else return OPEN;
    }
    return current;
  };
}

/** The JSON types a schema allows, or undefined when it says nothing (anything goes). */
export function typeNames(schema: Schema): string[] | undefined {
  if (Array.isArray(schema.anyOf)) {
    const all = (schema.anyOf as Schema[]).map(typeNames);
    if (all.some((t) => t === undefined)) return undefined;
    return [...new Set(all.flat() as string[])];
  }
  if (typeof schema.type === 'string') return [schema.type];
  if (Array.isArray(schema.type)) return schema.type as string[];
  if (schema.const !== undefined) return [literalType(schema.const).type as string];
  return undefined;
}

/** One schema for several possible results: the same type stays, different ones become anyOf. */
export function union(schemas: Schema[]): Schema {
  if (schemas.length === 0) return OPEN;
  if (schemas.some((s) => typeNames(s) === undefined)) return OPEN;
  const first = JSON.stringify(schemas[0]);
  if (schemas.every((s) => JSON.stringify(s) === first)) return schemas[0]!;
  const names = new Set(schemas.flatMap((s) => typeNames(s)!));
  if (names.size === 1) return { type: [...names][0] };
  return { anyOf: schemas };
}

/** Whether a value of type `actual` can be what `expected` accepts ("integer" is a number). */
export function typeFits(actual: string[], expected: string[]): boolean {
  return actual.some(
    (t) =>
      expected.includes(t) ||
      (t === 'integer' && expected.includes('number')) ||
      (t === 'number' && expected.includes('integer')),
  );
}

const WORDS: Record<string, string> = {
  array: 'a list',
  object: 'an object',
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  null: 'null',
};

/** "a string or a number". */
export function typeWords(names: string[]): string {
  return names.map((n) => WORDS[n] ?? n).join(' or ');
}
