// The one JavaScript an n8n expression may hold to be translated: a field read with an optional fallback.
import { clip, type Path, Problem } from './problem.ts';

const IDENT = /^[A-Za-z_$][\w$]*/;

/** One field read: the node it reads (null: the input item), the path inside `json`, a fallback. */
export interface Read {
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
  // `.length` is JavaScript's length of a list or text, computed (compute.ts), not a field.
  if (path.at(-1) === 'length') return undefined;
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
export function explain(js: string): Problem {
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
