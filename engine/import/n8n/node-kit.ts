// The shared vocabulary of the n8n node mappers: what a mapping is, its context, and field helpers.

import type { N8nNode } from './export.ts';
import {
  isExpression,
  isProblem,
  type Path,
  Problem,
  type Resolver,
  toTemplate,
  toTemplates,
} from './expressions.ts';
import type { Items } from './nodes-items.ts';

/** Maps a path inside the n8n item json of a node to a path inside its Atlas step output. */
export type DataMap = (path: Path) => Path | Problem | 'parent';

export type Mapping =
  | {
      kind: 'step';
      uses: string;
      with: Record<string, unknown>;
      data?: DataMap;
      comment?: string;
      /** Step fields beside `uses` and `with` (`onTimeout`...). */
      extra?: Record<string, unknown>;
      /** It takes the items as one list (Aggregate) instead of running once per item. */
      gathers?: true;
      /** Its output is a list of items again (Limit): where an n8n item field lies in each. */
      emits?: (path: Path) => Path | Problem;
    }
  | { kind: 'branch'; outputs: unknown[] }
  | { kind: 'split'; items: Items /** Loop Over Items: its first output is "done". */; done?: true }
  | { kind: 'pass' }
  | { kind: 'merge' }
  | { kind: 'response'; status: number; body: unknown }
  | Problem;

export interface NodeContext {
  node: N8nNode;
  resolve: Resolver;
  /** Records a tenant secret the workflow needs; returns its name. */
  secret(name: string, why: string): string;
  integration(provider: string, why: string): void;
  note(text: string): void;
  /** The nodes attached to this one through an `ai_*` connection (LangChain sub-nodes). */
  attached(kind: string): N8nNode[];
  /** The Atlas id of an n8n workflow imported in the same batch. */
  workflowFor(n8nId: string): string | undefined;
  /** The workflow's time zone, when its export says. */
  timezone?: string;
  /** Set when the node receives many items from a list (after a Split Out): the node runs per item. */
  items?: Items;
}

export type Mapper = (ctx: NodeContext) => Mapping;

export const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
export const str = (v: unknown, fallback = ''): unknown => (v === undefined || v === null ? fallback : v);

/** `n8n-nodes-base.httpRequest` → `httpRequest`; `@n8n/n8n-nodes-langchain.agent` → `langchain.agent`. */
export function shortType(type: string): string {
  const [pkg = '', name = ''] = [type.slice(0, type.lastIndexOf('.')), type.slice(type.lastIndexOf('.') + 1)];
  if (pkg === 'n8n-nodes-base') return name;
  if (pkg === '@n8n/n8n-nodes-langchain') return `langchain.${name}`;
  return type;
}

/** A secret name from an n8n credential's name: `My API token` → `MY_API_TOKEN`. */
export function secretName(credential: string): string {
  const base = credential
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase()
    .slice(0, 100);
  return /^[A-Z]/.test(base) ? base : `N8N_${base || 'CREDENTIAL'}`;
}

/** A resource locator (`{ __rl: true, value, mode }`, n8n 1.x) or a plain value. */
export function locatorValue(v: unknown): unknown {
  return isObject(v) && '__rl' in v ? v['value'] : v;
}

export function templates(value: unknown, ctx: NodeContext): unknown {
  return toTemplates(value, ctx.resolve, ctx.note);
}

/** Each value as templates (`templates`), every one rendered, in order; for `fields`. */
export function templated(values: Record<string, unknown>, ctx: NodeContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) out[key] = templates(value, ctx);
  return out;
}

/** A provider node's `resource` and `operation`, with the node's defaults when unset. */
export function resourceOperation(
  ctx: NodeContext,
  resource: string,
  operation: string,
): { resource: string; operation: string } {
  const p = ctx.node.parameters;
  return { resource: String(p['resource'] ?? resource), operation: String(p['operation'] ?? operation) };
}

/** Drops undefined fields; returns the first Problem among the values instead, if any. */
export function fields(entries: Record<string, unknown>): Record<string, unknown> | Problem {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entries)) {
    if (isProblem(value)) return value;
    if (value !== undefined) out[key] = value;
  }
  return out;
}

export function step(
  uses: string,
  input: Record<string, unknown> | Problem,
  data?: DataMap,
  comment?: string,
): Mapping {
  if (isProblem(input)) return input;
  return { kind: 'step', uses, with: input, ...(data ? { data } : {}), ...(comment ? { comment } : {}) };
}

/** The `to`, `cc` and `bcc` lists of a message, each from n8n's comma-separated text. */
export function recipients(
  to: unknown,
  cc: unknown,
  bcc: unknown,
  ctx: NodeContext,
): Record<string, unknown> {
  return { to: emailList(to, ctx), cc: emailList(cc, ctx), bcc: emailList(bcc, ctx) };
}

/** A list of email addresses from n8n's comma-separated text. */
export function emailList(value: unknown, ctx: NodeContext): unknown {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') return new Problem('the recipients are not text');
  if (isExpression(value)) {
    const one = toTemplate(value, ctx.resolve);
    if (isProblem(one)) return one;
    if (value.includes(','))
      return new Problem('recipients built by an expression cannot be split into a list');
    return [one];
  }
  return value
    .split(/[,;]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export const identity: DataMap = (path) => path;

/** A node whose items go on unchanged (No Op, Wait): later steps read the items it received. */
export const passThrough: DataMap = () => 'parent';

/** Only the fields an action's output schema declares can be read by later steps. */
export const declared =
  (what: string, fields: string[]): DataMap =>
  (path) =>
    fields.includes(String(path[0]))
      ? path
      : new Problem(
          `Atlas's ${what} declares only ${fields.join(', ')} in its output; read those, or fetch the object again`,
        );
