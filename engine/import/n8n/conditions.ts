// n8n IF, Filter and Switch conditions as JSON Logic. Only operators with an exact JSON Logic
// form are translated; a regex, a date comparison or a case-insensitive match is a Problem.
import { clip, isExpression, isProblem, Problem, type Resolver, toLogic } from './expressions.ts';

type Rule = unknown;
const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function literalAs(type: string, value: unknown): unknown {
  if (isExpression(value)) return value;
  if (type === 'number' && typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  if (type === 'boolean' && typeof value === 'string') return value === 'true';
  return value;
}

function binary(op: string, left: Rule, right: Rule): Rule {
  return { [op]: [left, right] };
}

/** One condition of IF/Filter v2+ (`{ leftValue, rightValue, operator: { type, operation } }`). */
function modernCondition(c: unknown, resolve: Resolver, caseSensitive: boolean): Rule | Problem {
  if (!isObject(c) || !isObject(c['operator'])) return new Problem('a condition has no operator');
  const type = String(c['operator']['type'] ?? 'string');
  const operation = String(c['operator']['operation'] ?? 'equals');
  const left = toLogic(literalAs(type, c['leftValue'] ?? ''), resolve);
  if (isProblem(left)) return left;
  const rawRight = c['rightValue'];
  const right = toLogic(literalAs(type, rawRight ?? ''), resolve);
  if (isProblem(right)) return right;
  if (
    type === 'string' &&
    !caseSensitive &&
    !['exists', 'notExists', 'empty', 'notEmpty'].includes(operation)
  )
    return new Problem('a case-insensitive string comparison has no JSON Logic form; make it case-sensitive');
  switch (operation) {
    case 'equals':
      return binary('==', left, right);
    case 'notEquals':
      return binary('!=', left, right);
    case 'gt':
    case 'after':
      return type === 'number' ? binary('>', left, right) : new Problem(`"${operation}" on ${type} values`);
    case 'gte':
      return type === 'number' ? binary('>=', left, right) : new Problem(`"${operation}" on ${type} values`);
    case 'lt':
      return type === 'number' ? binary('<', left, right) : new Problem(`"${operation}" on ${type} values`);
    case 'lte':
      return type === 'number' ? binary('<=', left, right) : new Problem(`"${operation}" on ${type} values`);
    case 'true':
      return binary('==', left, true);
    case 'false':
      return binary('==', left, false);
    case 'exists':
      return binary('!=', left, null);
    case 'notExists':
      return binary('==', left, null);
    case 'empty':
      return type === 'string' ? { in: [left, ['', null]] } : new Problem(`"empty" on ${type} values`);
    case 'notEmpty':
      return type === 'string'
        ? { '!': { in: [left, ['', null]] } }
        : new Problem(`"notEmpty" on ${type} values`);
    case 'contains':
      return type === 'string' ? { in: [right, left] } : new Problem(`"contains" on ${type} values`);
    case 'notContains':
      return type === 'string'
        ? { '!': { in: [right, left] } }
        : new Problem(`"notContains" on ${type} values`);
    case 'startsWith':
    case 'notStartsWith':
    case 'endsWith':
    case 'notEndsWith': {
      if (typeof right !== 'string' || right === '')
        return new Problem(`"${operation}" needs a literal text to compare with`);
      const start = operation.includes('tarts') ? 0 : -right.length;
      const rule = binary('==', { substr: [left, start, right.length] }, right);
      return operation.startsWith('not') ? { '!': rule } : rule;
    }
    default:
      return new Problem(
        `the ${type} operation "${operation}" has no exact JSON Logic form (regular expressions and dates need a computed value)`,
      );
  }
}

/** IF v1 / Switch v1 comparisons (`{ value1, operation, value2 }` under a data type). */
function legacyCondition(type: string, c: unknown, resolve: Resolver): Rule | Problem {
  if (!isObject(c)) return new Problem('a condition is not an object');
  const left = toLogic(literalAs(type, c['value1'] ?? ''), resolve);
  if (isProblem(left)) return left;
  const right = toLogic(literalAs(type, c['value2'] ?? (type === 'boolean' ? false : '')), resolve);
  if (isProblem(right)) return right;
  const operation = String(
    c['operation'] ?? (type === 'boolean' ? 'equal' : type === 'number' ? 'smaller' : 'equal'),
  );
  const ops: Record<string, string> = {
    equal: '==',
    notEqual: '!=',
    smaller: '<',
    smallerEqual: '<=',
    larger: '>',
    largerEqual: '>=',
  };
  if (ops[operation] && (type === 'number' || operation === 'equal' || operation === 'notEqual'))
    return binary(ops[operation]!, left, right);
  if (type === 'string' && operation === 'contains') return { in: [right, left] };
  if (type === 'string' && operation === 'notContains') return { '!': { in: [right, left] } };
  if (type === 'string' && operation === 'isEmpty') return { in: [left, ['', null]] };
  if (type === 'string' && operation === 'isNotEmpty') return { '!': { in: [left, ['', null]] } };
  if (type === 'string' && (operation === 'startsWith' || operation === 'endsWith')) {
    if (typeof right !== 'string' || right === '') return new Problem(`"${operation}" needs a literal text`);
    const start = operation === 'startsWith' ? 0 : -right.length;
    return binary('==', { substr: [left, start, right.length] }, right);
  }
  return new Problem(`the ${type} operation "${clip(operation, 30)}" has no exact JSON Logic form`);
}

function combine(rules: Rule[], combinator: string): Rule {
  if (rules.length === 1) return rules[0];
  return { [combinator === 'or' || combinator === 'any' ? 'or' : 'and']: rules };
}

/** The condition of an IF or Filter node (any version). */
export function nodeCondition(
  params: Record<string, unknown>,
  version: number,
  resolve: Resolver,
): Rule | Problem {
  const conditions = params['conditions'];
  if (version >= 2) {
    if (!isObject(conditions)) return new Problem('the node has no conditions');
    const options = isObject(conditions['options']) ? conditions['options'] : {};
    const nodeOptions = isObject(params['options']) ? params['options'] : {};
    const caseSensitive = options['caseSensitive'] !== false && nodeOptions['ignoreCase'] !== true;
    const list = Array.isArray(conditions['conditions']) ? conditions['conditions'] : [];
    if (list.length === 0) return new Problem('the node has no conditions');
    const rules: Rule[] = [];
    for (const c of list) {
      const rule = modernCondition(c, resolve, caseSensitive);
      if (isProblem(rule)) return rule;
      rules.push(rule);
    }
    return combine(rules, String(conditions['combinator'] ?? 'and'));
  }
  const rules: Rule[] = [];
  if (isObject(conditions)) {
    for (const type of Object.keys(conditions).sort()) {
      const list = conditions[type];
      if (!Array.isArray(list)) continue;
      if (!['boolean', 'number', 'string'].includes(type))
        return new Problem(`${type} conditions have no exact JSON Logic form`);
      for (const c of list) {
        const rule = legacyCondition(type, c, resolve);
        if (isProblem(rule)) return rule;
        rules.push(rule);
      }
    }
  }
  if (rules.length === 0) return new Problem('the node has no conditions');
  return combine(rules, String(params['combineOperation'] ?? 'all'));
}

/** The condition of each output of a Switch node (first match wins, as n8n does by default). */
export function switchOutputs(
  params: Record<string, unknown>,
  version: number,
  resolve: Resolver,
): Rule[] | Problem {
  const mode = String(params['mode'] ?? 'rules');
  if (mode !== 'rules')
    return new Problem(`Switch mode "${clip(mode, 20)}" (an output chosen by an expression)`);
  const rules: Rule[] = [];
  const outputs: number[] = [];
  const rulesParam = isObject(params['rules']) ? params['rules'] : {};
  if (version >= 3) {
    const options = isObject(params['options']) ? params['options'] : {};
    if (options['allMatchingOutputs'] === true) return new Problem('"Send data to all matching outputs"');
    const values = Array.isArray(rulesParam['values']) ? rulesParam['values'] : [];
    for (const [i, v] of values.entries()) {
      if (!isObject(v)) return new Problem('a Switch rule is not an object');
      const rule = nodeCondition({ conditions: v['conditions'] }, 2, resolve);
      if (isProblem(rule)) return rule;
      rules.push(rule);
      outputs.push(i);
    }
    const fallback = options['fallbackOutput'];
    const out = exclusive(rules, outputs);
    if (fallback === 'extra') out[values.length] = { '!': { or: rules.length > 0 ? rules : [false] } };
    else if (typeof fallback === 'number')
      out[fallback] = { or: [out[fallback] ?? false, { '!': { or: rules } }] };
    return out;
  }
  const dataType = String(params['dataType'] ?? 'number');
  const list = Array.isArray(rulesParam['rules']) ? rulesParam['rules'] : [];
  for (const r of list) {
    if (!isObject(r)) return new Problem('a Switch rule is not an object');
    const rule = legacyCondition(
      dataType,
      { value1: params['value1'], operation: r['operation'], value2: r['value2'] },
      resolve,
    );
    if (isProblem(rule)) return rule;
    rules.push(rule);
    outputs.push(Number(r['output'] ?? 0));
  }
  const out = exclusive(rules, outputs);
  const fallback = Number(params['fallbackOutput'] ?? -1);
  if (fallback >= 0)
    out[fallback] = { or: [out[fallback] ?? false, { '!': { or: rules.length > 0 ? rules : [false] } }] };
  return out;
}

/** Output conditions where a rule matches only when no earlier rule did. */
function exclusive(rules: Rule[], outputs: number[]): Rule[] {
  const out: Rule[] = [];
  rules.forEach((rule, i) => {
    const earlier = rules.slice(0, i);
    const only = earlier.length === 0 ? rule : { and: [rule, { '!': { or: earlier } }] };
    const o = outputs[i]!;
    out[o] = out[o] === undefined ? only : { or: [out[o], only] };
  });
  return out;
}
