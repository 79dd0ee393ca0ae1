// JSON Logic (json-logic-js) for `if` conditions and `$expr` values: the standard operators
// without `log` (it writes to the console), plus Atlas's pure operations (functions.ts).
import jsonLogic from 'json-logic-js';
import { ATLAS_OPERATORS, LogicError, withNow } from './functions.ts';
import { type Path, splitDotted } from './path.ts';

export { LogicError };

/** The standard JSON Logic operators Atlas allows. */
export const STANDARD_OPERATORS: ReadonlySet<string> = new Set([
  '==',
  '===',
  '!=',
  '!==',
  '>',
  '>=',
  '<',
  '<=',
  '!',
  '!!',
  'or',
  'and',
  '?:',
  'if',
  'in',
  'cat',
  'substr',
  '+',
  '-',
  '*',
  '/',
  '%',
  'min',
  'max',
  'merge',
  'var',
  'missing',
  'missing_some',
  'map',
  'filter',
  'reduce',
  'all',
  'none',
  'some',
]);

export const LOGIC_OPERATORS: ReadonlySet<string> = new Set([...STANDARD_OPERATORS, ...ATLAS_OPERATORS]);

/** Operators whose second argument is evaluated per array item: `var` there reads the item. */
export const ITERATING = new Set(['map', 'filter', 'reduce', 'all', 'none', 'some']);

/** A `var` read by a rule. */
export interface LogicVar {
  /** The path as written (`steps.check.output.ok`). */
  name: string;
  path: Path;
  /** Where the `var` operand sits inside the rule. */
  at: Path;
  /** Inside a map/filter/reduce/all/none/some body: it reads the current item, not the scope. */
  local: boolean;
  /** A default was given (`{"var": ["x", 0]}`), so a missing value is not an error. */
  hasDefault: boolean;
}

export interface LogicScan {
  vars: LogicVar[];
  unknownOperators: { operator: string; at: Path }[];
}

function isRule(value: unknown): value is Record<string, unknown> {
  return (
    value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 1
  );
}

/** Lists the vars and unknown operators of a rule, with their positions inside it. */
export function scanLogic(rule: unknown, at: Path = []): LogicScan {
  const scan: LogicScan = { vars: [], unknownOperators: [] };
  visit(rule, at, false, scan);
  return scan;
}

function visit(node: unknown, at: Path, local: boolean, scan: LogicScan): void {
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) visit(item, [...at, i], local, scan);
    return;
  }
  if (!isRule(node)) return;
  const [operator] = Object.keys(node) as [string];
  const args = node[operator];
  const opAt = [...at, operator];
  if (!LOGIC_OPERATORS.has(operator)) scan.unknownOperators.push({ operator, at: opAt });
  if (operator === 'var') {
    collectVar(args, opAt, local, scan);
    return;
  }
  const list = Array.isArray(args) ? args : [args];
  list.forEach((arg, i) => {
    const argAt = Array.isArray(args) ? [...opAt, i] : opAt;
    visit(arg, argAt, local || (ITERATING.has(operator) && i === 1), scan);
  });
}

function collectVar(args: unknown, at: Path, local: boolean, scan: LogicScan): void {
  const list = Array.isArray(args) ? args : [args];
  const [name] = list;
  // A computed var name (`{"var": {"cat": ...}}`) cannot be checked before the run.
  if (typeof name !== 'string' && typeof name !== 'number') {
    visit(name, Array.isArray(args) ? [...at, 0] : at, local, scan);
    return;
  }
  const text = String(name);
  scan.vars.push({
    name: text,
    path: splitDotted(text),
    at: Array.isArray(args) ? [...at, 0] : at,
    local,
    hasDefault: list.length > 1,
  });
}

/** The vars a rule reads from the scope (not those that read array items). */
export function logicVars(rule: unknown): LogicVar[] {
  return scanLogic(rule).vars.filter((v) => !v.local);
}

/**
 * Evaluates a rule against data; an unknown operator is an error, never a silent false.
 * `now` is what the `now` operation answers: a time the caller recorded, never the clock.
 */
export function evaluate(rule: unknown, data: unknown, now?: Date | string): unknown {
  const unknown = scanLogic(rule).unknownOperators[0];
  if (unknown) throw new LogicError(`unknown JSON Logic operator "${unknown.operator}"`);
  return withNow(now, () => jsonLogic.apply(rule as jsonLogic.RulesLogic, data));
}

/** JSON Logic truthiness (an empty array is false), for `if` conditions. */
export function isTruthy(value: unknown): boolean {
  return jsonLogic.truthy(value);
}
