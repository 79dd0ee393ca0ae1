// n8n expressions (`={{ $json.x }}`, `={{ $('Node').item.json.y }}`) to Atlas templates and
// JSON Logic operands. Only what can be translated exactly is: a read of an item field,
// optionally with a `?? literal` fallback. Anything else (a method call, arithmetic, `$now`,
// arbitrary JavaScript) is a Problem naming what to write instead, never a guess.
import { computeRule } from './compute.ts';
import { clip, isProblem, type Path, Problem, type Resolver } from './problem.ts';
import { explain, parseRead, type Read } from './reads.ts';

export { clip, isProblem, type Path, Problem, type Resolver, type Segment } from './problem.ts';
export { parseRead } from './reads.ts';

const TEMPLATE_KEY = /^[A-Za-z_$][\w$-]*$/;

/** Formats a scope path as template text, or a Problem when a key cannot be written in one. */
export function templatePath(path: Path): string | Problem {
  let out = '';
  for (const [i, seg] of path.entries()) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (TEMPLATE_KEY.test(seg)) out += i === 0 ? seg : `.${seg}`;
    else if (i > 0 && !/['\\{}\n\r]/.test(seg)) out += `['${seg}']`;
    else
      return new Problem(
        `the field name ${JSON.stringify(clip(seg, 40))} cannot be written in an Atlas template`,
      );
  }
  return out;
}

function fallbackText(value: Read['fallback']): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

/** The parts of an n8n expression body: literal text and `{{ js }}` segments. */
function splitExpression(body: string): { text?: string; js?: string }[] | Problem {
  const parts: { text?: string; js?: string }[] = [];
  let i = 0;
  while (i < body.length) {
    const open = body.indexOf('{{', i);
    if (open === -1) {
      parts.push({ text: body.slice(i) });
      break;
    }
    if (open > i) parts.push({ text: body.slice(i, open) });
    const close = body.indexOf('}}', open + 2);
    if (close === -1) return new Problem(`"${clip(body)}" opens {{ and never closes it`);
    parts.push({ js: body.slice(open + 2, close) });
    i = close + 2;
  }
  return parts;
}

/** True when an n8n parameter value is an expression (`=` first). */
export const isExpression = (value: unknown): boolean => typeof value === 'string' && value.startsWith('=');

/** One n8n string (literal or `=` expression) as an Atlas template string. */
export function toTemplate(value: string, resolve: Resolver): string | Problem {
  if (!isExpression(value)) {
    if (value.includes('{{'))
      return new Problem(`the text "${clip(value)}" contains "{{", which Atlas would read as a template`);
    return value;
  }
  const parts = splitExpression(value.slice(1));
  if (isProblem(parts)) return parts;
  let out = '';
  for (const part of parts) {
    if (part.text !== undefined) {
      if (part.text.includes('{{') || part.text.includes('}}'))
        return new Problem(`the text "${clip(part.text)}" contains braces Atlas would read as a template`);
      out += part.text;
      continue;
    }
    const read = parseRead(part.js ?? '');
    if (!read) return explain(part.js ?? '');
    const path = resolve(read.node, read.path);
    if (isProblem(path)) return path;
    const text = templatePath(path);
    if (isProblem(text)) return text;
    out += `{{ ${text}${'fallback' in read ? ` ?? ${fallbackText(read.fallback)}` : ''} }}`;
  }
  return out;
}

/**
 * One n8n string as an Atlas value: a template when every `{{ }}` is a plain read, else a
 * computed value (`{ $expr }`) when each part translates exactly, else the first Problem.
 * `asText` joins the parts into text (n8n turns an expression in a text field into text).
 */
export function toValue(
  value: string,
  resolve: Resolver,
  note: (text: string) => void,
  asText = true,
): unknown {
  const template = toTemplate(value, resolve);
  if (!isProblem(template) || !isExpression(value)) return template;
  const parts = splitExpression(value.slice(1));
  if (isProblem(parts)) return parts;
  const operands: unknown[] = [];
  for (const part of parts) {
    if (part.text !== undefined) {
      if (part.text.includes('{{') || part.text.includes('}}'))
        return new Problem(`the text "${clip(part.text)}" contains braces Atlas would read as a template`);
      if (part.text !== '') operands.push(part.text);
      continue;
    }
    const computed = computeRule(part.js ?? '', { resolve, note });
    if (isProblem(computed)) return computed;
    operands.push(computed.rule);
  }
  if (!asText && operands.length === 1) return { $expr: operands[0] };
  return { $expr: { cat: operands } };
}

/** Any n8n parameter value (deeply) with its strings as templates or computed values, or the first Problem. */
export function toTemplates(
  value: unknown,
  resolve: Resolver,
  note: (text: string) => void = () => {},
): unknown {
  if (typeof value === 'string') return toValue(value, resolve, note);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) {
      const t = toTemplates(item, resolve, note);
      if (isProblem(t)) return t;
      out.push(t);
    }
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('{{')) return new Problem(`the key "${clip(key)}" contains "{{"`);
      const t = toTemplates(item, resolve, note);
      if (isProblem(t)) return t;
      out[key] = t;
    }
    return out;
  }
  return value;
}

/** An n8n value as a JSON Logic operand: a literal, a `var`, or a `cat` of both. */
export function toLogic(value: unknown, resolve: Resolver): unknown {
  if (!isExpression(value)) return value ?? null;
  const parts = splitExpression((value as string).slice(1));
  if (isProblem(parts)) return parts;
  const operands: unknown[] = [];
  for (const part of parts) {
    if (part.text !== undefined) {
      operands.push(part.text);
      continue;
    }
    const read = parseRead(part.js ?? '');
    if (!read) {
      const computed = computeRule(part.js ?? '', { resolve, note: () => {} });
      if (isProblem(computed)) return computed;
      operands.push(computed.rule);
      continue;
    }
    const path = resolve(read.node, read.path);
    if (isProblem(path)) return path;
    if (path.some((seg) => typeof seg === 'string' && (seg.includes('.') || seg === '')))
      return new Problem(`a field name with a dot cannot be read in a JSON Logic condition`);
    const name = path.join('.');
    operands.push('fallback' in read ? { var: [name, read.fallback] } : { var: name });
  }
  const meaningful = operands.filter((o) => o !== '');
  if (meaningful.length === 1 && typeof meaningful[0] !== 'string') return meaningful[0];
  return { cat: meaningful };
}
