// n8n expressions (`={{ $json.x }}`, `={{ $('Node').item.json.y }}`) to Atlas templates and
// JSON Logic operands. Only what can be translated exactly is: a read of an item field,
// optionally with a `?? literal` fallback. Anything else (a method call, arithmetic, `$now`,
// arbitrary JavaScript) is a Problem naming what to write instead, never a guess.

export type Segment = string | number;
export type Path = Segment[];

/** Where an n8n item field lives in the Atlas run scope; `null` node means `$json` (the input item). */
export type Resolver = (node: string | null, path: Path) => Path | Problem;

export class Problem {
  constructor(
    readonly message: string,
    /** The Atlas construct that will translate it once the language has it (`$expr`...). */
    readonly needs?: string,
    /** It only reads a node that was not translated itself. */
    readonly upstream = false,
  ) {}
}

export const isProblem = (value: unknown): value is Problem => value instanceof Problem;

const IDENT = /^[A-Za-z_$][\w$]*/;
const TEMPLATE_KEY = /^[A-Za-z_$][\w$-]*$/;

/** One field read: the node it reads (null: the input item), the path inside `json`, a fallback. */
interface Read {
  node: string | null;
  path: Path;
  fallback?: string | number | boolean | null;
}

/** Parses the JavaScript inside one `{{ }}`; undefined when it is more than a field read. */
export function parseRead(js: string): Read | undefined {
  const text = js.trim();
  const [head, ...rest] = splitFallback(text);
  if (head === undefined || rest.length > 1) return undefined;
  let fallback: Read['fallback'];
  if (rest.length === 1) {
    const lit = parseLiteral(rest[0]!.trim());
    if (lit === undefined) return undefined;
    fallback = lit.value;
  }
  const cursor = { s: head.trim(), i: 0 };
  const node = parseRef(cursor);
  if (node === undefined) return undefined;
  const path = parseMembers(cursor);
  if (path === undefined || cursor.i !== cursor.s.length) return undefined;
  return { node, path, ...(rest.length === 1 ? { fallback } : {}) };
}

function splitFallback(text: string): string[] {
  // `??` outside string literals.
  const parts: string[] = [];
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '?' && text[i + 1] === '?') {
      parts.push(text.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function parseLiteral(text: string): { value: string | number | boolean | null } | undefined {
  if (/^-?\d+(\.\d+)?$/.test(text)) return { value: Number(text) };
  if (text === 'true' || text === 'false') return { value: text === 'true' };
  if (text === 'null') return { value: null };
  const m = /^'([^'\\{}]*)'$|^"([^"\\{}]*)"$/.exec(text);
  if (m) return { value: m[1] ?? m[2] ?? '' };
  return undefined;
}

type Cursor = { s: string; i: number };

function eat(c: Cursor, token: string): boolean {
  if (c.s.startsWith(token, c.i)) {
    c.i += token.length;
    return true;
  }
  return false;
}

function parseString(c: Cursor): string | undefined {
  const quote = c.s[c.i];
  if (quote !== '"' && quote !== "'") return undefined;
  let out = '';
  for (let i = c.i + 1; i < c.s.length; i++) {
    const ch = c.s[i]!;
    if (ch === '\\') {
      const next = c.s[i + 1];
      if (next === undefined || !`"'\\`.includes(next)) return undefined;
      out += next;
      i++;
    } else if (ch === quote) {
      c.i = i + 1;
      return out;
    } else out += ch;
  }
  return undefined;
}

/** `$json`, `$input.item.json`, `$('Name').item.json`, `$node["Name"].json`... → the node (null: input). */
function parseRef(c: Cursor): string | null | undefined {
  if (eat(c, '$json')) return null;
  if (eat(c, '$input.item.json') || eat(c, '$input.first().json')) return null;
  if (eat(c, '$(')) {
    const name = parseString(c);
    if (name === undefined || !eat(c, ')')) return undefined;
    if (eat(c, '.item.json') || eat(c, '.first().json') || eat(c, '.last().json')) return name;
    return undefined;
  }
  if (eat(c, '$node')) {
    let name: string | undefined;
    if (eat(c, '[')) {
      name = parseString(c);
      if (name === undefined || !eat(c, ']')) return undefined;
    } else if (eat(c, '.')) {
      const m = IDENT.exec(c.s.slice(c.i));
      if (!m) return undefined;
      name = m[0];
      c.i += m[0].length;
    } else return undefined;
    return eat(c, '.json') ? name : undefined;
  }
  return undefined;
}

function parseMembers(c: Cursor): Path | undefined {
  const path: Path = [];
  while (c.i < c.s.length) {
    if (eat(c, '.')) {
      const m = IDENT.exec(c.s.slice(c.i));
      if (!m) return undefined;
      path.push(m[0]);
      c.i += m[0].length;
    } else if (eat(c, '[')) {
      const digits = /^(0|[1-9]\d*)/.exec(c.s.slice(c.i));
      if (digits) {
        path.push(Number(digits[0]));
        c.i += digits[0].length;
      } else {
        const key = parseString(c);
        if (key === undefined) return undefined;
        path.push(key);
      }
      if (!eat(c, ']')) return undefined;
    } else if (c.s[c.i] === ' ') {
      c.i++;
    } else return undefined;
  }
  return path;
}

/** Says why an expression is not a plain read, and what Atlas construct it will need. */
function explain(js: string): Problem {
  const t = js.trim();
  if (/\$now|\$today|DateTime|new Date/.test(t))
    return new Problem(
      `"{{ ${clip(t)} }}" reads the clock; use trigger.at or trigger.scheduledAt, or a computed value`,
      '$expr',
    );
  if (/\.\w+\(|[-+*/%]|\?[^?]|Math\./.test(t))
    return new Problem(
      `"{{ ${clip(t)} }}" computes a value (a method call or arithmetic); write it as a core.set step over plain templates, or a computed value`,
      '$expr',
    );
  return new Problem(
    `"{{ ${clip(t)} }}" is JavaScript that Atlas templates cannot express; read plain fields as {{ steps.<id>.output.<field> }} instead`,
  );
}

export function clip(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

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

/** Any n8n parameter value (deeply) with its strings as templates, or the first Problem. */
export function toTemplates(value: unknown, resolve: Resolver): unknown {
  if (typeof value === 'string') return toTemplate(value, resolve);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) {
      const t = toTemplates(item, resolve);
      if (isProblem(t)) return t;
      out.push(t);
    }
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('{{')) return new Problem(`the key "${clip(key)}" contains "{{"`);
      const t = toTemplates(item, resolve);
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
    if (!read) return explain(part.js ?? '');
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
