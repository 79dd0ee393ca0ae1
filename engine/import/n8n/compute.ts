// n8n expressions that compute (arithmetic, comparisons, string methods, `$now`) to Atlas
// computed values (`{ $expr: <JSON Logic> }`). The JavaScript is parsed with acorn and
// translated node by node; only constructs whose JSON Logic meaning is exactly JavaScript's
// are accepted. Anything else is a Problem naming the construct, never a guess.
import { type Expression, type Node, parseExpressionAt } from 'acorn';
import { durationOf } from './durations.ts';
import { clip, isProblem, type Path, Problem, type Resolver } from './problem.ts';
import { parseRead } from './reads.ts';

export type Rule = unknown;

/** What a rule is known to produce; `+` joins text or adds numbers depending on it. */
type Kind = 'string' | 'number' | 'boolean' | 'date' | 'unknown';
interface Typed {
  rule: Rule;
  kind: Kind;
}

export interface ComputeContext {
  resolve: Resolver;
  /** Records something the reader of the report should know (for example what `$now` became). */
  note(text: string): void;
}

/** Parses the JavaScript inside one `{{ }}` into a JSON Logic rule, or says why it cannot. */
export function computeRule(js: string, ctx: ComputeContext): { rule: Rule; kind: Kind } | Problem {
  let ast: Expression;
  try {
    ast = parseExpressionAt(js, 0, { ecmaVersion: 2022 });
  } catch {
    return new Problem(`"{{ ${clip(js.trim())} }}" is not a JavaScript expression`);
  }
  if (js.slice(ast.end).trim() !== '')
    return new Problem(`"{{ ${clip(js.trim())} }}" holds more than one expression`);
  return translate(ast, js, ctx);
}

const num = (rule: Rule): Typed => ({ rule, kind: 'number' });
const bool = (rule: Rule): Typed => ({ rule, kind: 'boolean' });
const text = (rule: Rule): Typed => ({ rule, kind: 'string' });

const ARITHMETIC: Record<string, string> = { '-': '-', '*': '*', '/': '/', '%': '%' };
const COMPARISON: Record<string, string> = {
  '===': '===',
  '!==': '!==',
  '==': '==',
  '!=': '!=',
  '<': '<',
  '>': '>',
  '<=': '<=',
  '>=': '>=',
};
/** The methods with an exact Atlas operation. */
const METHODS = new Set([
  'toLowerCase',
  'toUpperCase',
  'join',
  'split',
  'slice',
  'toString',
  'toISO',
  'plus',
  'minus',
  'toFormat',
]);
function translate(node: Node, src: string, ctx: ComputeContext): Typed | Problem {
  const code = clip(src.slice(node.start, node.end).trim());
  const unsupported = (what: string) =>
    new Problem(`"{{ ${code} }}" uses ${what}, which has no exact Atlas computed value`);
  const n = node as Expression;
  switch (n.type) {
    case 'Literal': {
      const v = n.value;
      if (typeof v === 'string') {
        if (v.includes('{{') || v.includes('}}'))
          return new Problem(`the text "${clip(v)}" contains braces Atlas would read as a template`);
        return text(v);
      }
      if (typeof v === 'number') return num(v);
      if (typeof v === 'boolean') return bool(v);
      if (v === null) return { rule: null, kind: 'unknown' };
      return unsupported('a regular expression or big integer');
    }
    case 'TemplateLiteral': {
      const parts: Rule[] = [];
      for (const [i, quasi] of n.quasis.entries()) {
        const cooked = quasi.value.cooked ?? '';
        if (cooked.includes('{{') || cooked.includes('}}'))
          return new Problem(`the text "${clip(cooked)}" contains braces Atlas would read as a template`);
        if (cooked !== '') parts.push(cooked);
        const e = n.expressions[i];
        if (e) {
          const t = translate(e, src, ctx);
          if (isProblem(t)) return t;
          parts.push(t.rule);
        }
      }
      return text({ cat: parts });
    }
    case 'BinaryExpression': {
      if (n.left.type === 'PrivateIdentifier') return unsupported('a private field');
      const left = translate(n.left, src, ctx);
      if (isProblem(left)) return left;
      const right = translate(n.right, src, ctx);
      if (isProblem(right)) return right;
      if (n.operator === '+') {
        if (left.kind === 'string' || right.kind === 'string') return text({ cat: [left.rule, right.rule] });
        if (left.kind === 'number' && right.kind === 'number') return num({ '+': [left.rule, right.rule] });
        return new Problem(
          `"{{ ${code} }}" uses +, which adds numbers or joins text depending on the values; write { $expr: { "+": [...] } } or { cat: [...] } yourself`,
        );
      }
      const arithmetic = ARITHMETIC[n.operator];
      if (arithmetic) return num({ [arithmetic]: [left.rule, right.rule] });
      const comparison = COMPARISON[n.operator];
      if (comparison) return bool({ [comparison]: [left.rule, right.rule] });
      return unsupported(`the operator ${n.operator}`);
    }
    case 'LogicalExpression': {
      const left = translate(n.left, src, ctx);
      if (isProblem(left)) return left;
      const right = translate(n.right, src, ctx);
      if (isProblem(right)) return right;
      const kind = left.kind === right.kind ? left.kind : 'unknown';
      if (n.operator === '??') return { rule: { default: [left.rule, right.rule] }, kind };
      return { rule: { [n.operator === '&&' ? 'and' : 'or']: [left.rule, right.rule] }, kind };
    }
    case 'UnaryExpression': {
      const arg = translate(n.argument, src, ctx);
      if (isProblem(arg)) return arg;
      if (n.operator === '!') return bool({ '!': [arg.rule] });
      if (n.operator === '-') return num({ '-': [arg.rule] });
      return unsupported(`the operator ${n.operator}`);
    }
    case 'ConditionalExpression': {
      const test = translate(n.test, src, ctx);
      if (isProblem(test)) return test;
      const yes = translate(n.consequent, src, ctx);
      if (isProblem(yes)) return yes;
      const no = translate(n.alternate, src, ctx);
      if (isProblem(no)) return no;
      return {
        rule: { if: [test.rule, yes.rule, no.rule] },
        kind: yes.kind === no.kind ? yes.kind : 'unknown',
      };
    }
    case 'Identifier':
    case 'MemberExpression':
    case 'CallExpression':
      return access(n, src, ctx, unsupported);
    default:
      return unsupported(describe(n.type));
  }
}

function describe(type: string): string {
  if (type === 'ArrowFunctionExpression' || type === 'FunctionExpression') return 'a function';
  if (type === 'AssignmentExpression' || type === 'UpdateExpression') return 'an assignment';
  if (type === 'ObjectExpression' || type === 'ArrayExpression') return 'an object or array literal';
  return `JavaScript (${type})`;
}

/** A field read, `$now`/`$today`, `.length`, or one of the string and date methods Atlas has. */
function access(
  n: Expression,
  src: string,
  ctx: ComputeContext,
  unsupported: (what: string) => Problem,
): Typed | Problem {
  const whole = src.slice(n.start, n.end);
  const read = parseRead(whole);
  if (read) {
    const path = ctx.resolve(read.node, read.path);
    if (isProblem(path)) return path;
    const v = varOf(path);
    if (isProblem(v)) return v;
    return {
      rule: 'fallback' in read ? { default: [v, read.fallback ?? null] } : v,
      kind: 'unknown',
    };
  }
  if (n.type === 'Identifier') {
    if (n.name === '$now') {
      ctx.note("$now became the run's trigger time (`{ now: [] }`): the same in every step and retry");
      return { rule: { now: [] }, kind: 'date' };
    }
    return unsupported(`the variable ${n.name}`);
  }
  if (n.type === 'MemberExpression') {
    if (!n.computed && n.property.type === 'Identifier' && n.property.name === 'length') {
      if (n.object.type === 'Super') return unsupported('super');
      const obj = translate(n.object, src, ctx);
      if (isProblem(obj)) return obj;
      return num({ length: [obj.rule] });
    }
    return unsupported('a property of a computed value');
  }
  if (n.type !== 'CallExpression') return unsupported('JavaScript');
  const callee = n.callee;
  if (callee.type !== 'MemberExpression' || callee.computed || callee.property.type !== 'Identifier')
    return unsupported('a function call');
  if (callee.object.type === 'Super') return unsupported('super');
  const method = callee.property.name;
  if (callee.object.type === 'Identifier' && callee.object.name === 'Math')
    return unsupported(`Math.${method}`);
  if (!METHODS.has(method)) return unsupported(`the method .${method}()`);
  const target = translate(callee.object, src, ctx);
  if (isProblem(target)) return target;
  const args: Rule[] = [];
  const kinds: Kind[] = [];
  for (const a of n.arguments) {
    if (a.type === 'SpreadElement') return unsupported('a spread argument');
    if (a.type === 'ObjectExpression' && (method === 'plus' || method === 'minus')) {
      const d = durationOf(a, method === 'minus');
      if (isProblem(d)) return d;
      args.push(d);
      kinds.push('string');
      continue;
    }
    const t = translate(a, src, ctx);
    if (isProblem(t)) return t;
    args.push(t.rule);
    kinds.push(t.kind);
  }
  const call = (op: string, kind: Kind, count: number): Typed | Problem =>
    args.length > count
      ? unsupported(`${method} with ${args.length} arguments`)
      : { rule: { [op]: [target.rule, ...args] }, kind };
  switch (method) {
    case 'toLowerCase':
      return call('lower', 'string', 0);
    case 'toUpperCase':
      return call('upper', 'string', 0);
    case 'join':
      return args.length === 0 ? text({ join: [target.rule, ','] }) : call('join', 'string', 1);
    case 'split':
      return args.length === 1 ? call('split', 'unknown', 1) : unsupported('split without a separator');
    case 'slice':
      return call('slice', target.kind, 2);
    case 'toString':
      return args.length === 0 ? text({ cat: [target.rule] }) : unsupported('toString with a radix');
    case 'toISO':
      return target.kind === 'date' && args.length === 0
        ? target
        : unsupported(`${method} on a value that is not $now`);
    case 'plus':
    case 'minus':
      if (target.kind !== 'date' || args.length !== 1 || kinds[0] !== 'string')
        return unsupported(`${method} other than $now.${method}({ days: N })`);
      return { rule: { date_add: [target.rule, args[0]] }, kind: 'date' };
    case 'toFormat':
      // n8n's dates are Luxon DateTimes; Atlas's date_format takes Luxon's tokens too.
      if (target.kind !== 'date' || args.length !== 1 || kinds[0] !== 'string')
        return unsupported('toFormat other than on $now with a literal format');
      return text({ date_format: [target.rule, args[0], 'UTC'] });
    default:
      return unsupported(`the method .${method}()`);
  }
}

/** A resolved path as a JSON Logic `var`; names with dots cannot be written in one. */
export function varOf(path: Path): { var: string } | Problem {
  if (path.some((seg) => typeof seg === 'string' && (seg.includes('.') || seg === '')))
    return new Problem('a field name with a dot cannot be read in a computed value');
  return { var: path.join('.') };
}
