/**
 * What an Agent manifest allows a tool call: `maxCalls` per tool and `constrain` rules on
 * its arguments (`const` fixes a field, `allow` lists what it may hold, `forbid` keeps the
 * model from setting it). Checked before a call runs: a refused call goes back to the model
 * as a tool error and never reaches the action, so text the model read (an outsider's mail,
 * say) cannot make it send mail to anyone.
 *
 * A value written `{{ secrets.NAME }}` is the tenant's secret of that name, read when the
 * task starts (for `allow`, a list separated by commas or whitespace): one shipped agent,
 * each tenant's own recipients. A secret that is not set allows nothing, and its values are
 * never shown to the model (nor kept in the ledger): messages name the secret instead.
 */
import type { ActionContext, AgentManifest } from 'atlas-engine/sdk';

type ToolEntry = NonNullable<AgentManifest['tools']>[number];
type Constraint = { const?: unknown; allow?: string[]; forbid?: boolean };

const SECRET_REF = /^\{\{\s*secrets\.([A-Za-z][A-Za-z0-9_]{0,127})\s*\}\}$/;

/** The policies of an agent's tools, with `{{ secrets.NAME }}` values read for this tenant. */
export async function resolvePolicies(
  agent: AgentManifest,
  secret: ActionContext['secret'],
): Promise<Map<string, ToolPolicy>> {
  const read = async (value: unknown): Promise<string | undefined> => {
    const name = typeof value === 'string' ? SECRET_REF.exec(value)?.[1] : undefined;
    return name === undefined ? undefined : ((await secret(name)) ?? '');
  };
  const out = new Map<string, ToolPolicy>();
  for (const entry of agent.tools ?? []) {
    const policy = toolPolicy(entry);
    for (const rule of policy.rules) {
      const { constraint } = rule;
      if ('const' in constraint) {
        const value = await read(constraint.const);
        if (value !== undefined) rule.constraint = { const: value === '' ? UNSET : value };
      } else if (constraint.allow) {
        const allow: string[] = [];
        for (const item of constraint.allow) {
          const value = await read(item);
          if (value === undefined) allow.push(item);
          else allow.push(...value.split(/[\s,]+/).filter((v) => v !== ''));
        }
        rule.constraint = { allow };
      }
    }
    out.set(policy.uses, policy);
  }
  return out;
}

/** Why nothing is allowed, when a secret the rule reads is not set. */
function unset(constraint: Constraint): string {
  const empty =
    constraint.const === UNSET || (constraint.allow !== undefined && constraint.allow.length === 0);
  return empty ? ' (not configured: the secret is not set, so nothing is allowed)' : '';
}

/** A `const` whose secret is not set: matches nothing, so every call is refused. */
const UNSET = Symbol('unset');

export interface Rule {
  /** The field as the manifest names it (`message.to`). */
  field: string;
  path: string[];
  constraint: Constraint;
  /** How messages to the model name the allowed values: a secret's values are not shown. */
  shown: string;
}

export interface ToolPolicy {
  uses: string;
  maxCalls: number | undefined;
  rules: Rule[];
}

/** The action a `tools` entry names. */
export function toolUses(entry: ToolEntry): string {
  return typeof entry === 'string' ? entry : entry.use;
}

export function toolPolicy(entry: ToolEntry): ToolPolicy {
  if (typeof entry === 'string') return { uses: entry, maxCalls: undefined, rules: [] };
  const rules = Object.entries(entry.constrain ?? {}).map(([field, written]) => {
    const constraint = written as Constraint;
    return { field, path: field.split('.'), constraint, shown: shownValues(constraint) };
  });
  return { uses: entry.use, maxCalls: entry.maxCalls, rules };
}

/** The constraints in a sentence the model reads in the tool's description. */
export function describePolicy(policy: ToolPolicy): string | undefined {
  const parts = policy.rules.map(({ field, constraint, shown }) => {
    if (constraint.forbid) return `\`${field}\` may not be set`;
    if ('const' in constraint) return `\`${field}\` is always ${shown}`;
    return `\`${field}\` may only be ${shown}`;
  });
  if (policy.maxCalls !== undefined) parts.push(`at most ${policy.maxCalls} call(s) per task`);
  return parts.length === 0 ? undefined : `Limits set by the operator: ${parts.join('; ')}.`;
}

/** The allowed values as the model reads them: literals as written, secrets by name. */
function shownValues(constraint: Constraint): string {
  const one = (value: unknown) => {
    const name = typeof value === 'string' ? SECRET_REF.exec(value)?.[1] : undefined;
    return name === undefined ? JSON.stringify(value) : `one of the values configured in ${name}`;
  };
  if ('const' in constraint) return one(constraint.const);
  const allow = constraint.allow ?? [];
  return allow.map((v) => (SECRET_REF.test(v) ? one(v) : v)).join(', ');
}

export type Checked = { ok: true; input: unknown } | { ok: false; message: string };

/**
 * Applies the rules to parsed arguments: fills `const` fields the model left out, refuses
 * a field that differs from its `const` or holds a value (or, for a list, an item) that no
 * `allow` pattern matches.
 */
export function applyRules(policy: ToolPolicy, input: unknown): Checked {
  if (policy.rules.length === 0) return { ok: true, input };
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    return { ok: false, message: 'the arguments must be an object' };
  const out = structuredClone(input) as Record<string, unknown>;
  for (const { field, path, constraint, shown } of policy.rules) {
    const fixed = 'const' in constraint;
    const parent = parentOf(out, path, fixed && constraint.const !== UNSET);
    if (parent === undefined) {
      if (fixed) return { ok: false, message: `\`${field}\` must be ${shown}` };
      continue;
    }
    const key = path[path.length - 1]!;
    const value = Object.hasOwn(parent, key) ? parent[key] : undefined;
    if (constraint.forbid) {
      if (value !== undefined)
        return { ok: false, message: `\`${field}\` may not be set (the configured default applies)` };
      continue;
    }
    if (fixed) {
      if (constraint.const === UNSET || (value !== undefined && !sameJson(value, constraint.const)))
        return { ok: false, message: `\`${field}\` must be ${shown}${unset(constraint)}` };
      if (value === undefined) parent[key] = structuredClone(constraint.const);
      continue;
    }
    if (value === undefined || value === null) continue;
    const allow = constraint.allow ?? [];
    for (const item of Array.isArray(value) ? value : [value]) {
      if (!allows(allow, item))
        return {
          ok: false,
          message: `\`${field}\` may only be ${shown}; ${JSON.stringify(item)} is not allowed${unset(constraint)}`,
        };
    }
  }
  return { ok: true, input: out };
}

/** The object holding the field (created on the way for a `const` to fill in), if there is one. */
function parentOf(
  root: Record<string, unknown>,
  path: string[],
  create: boolean,
): Record<string, unknown> | undefined {
  let current = root;
  for (const key of path.slice(0, -1)) {
    let next = Object.hasOwn(current, key) ? current[key] : undefined;
    if (next === undefined && create) {
      next = {};
      current[key] = next;
    }
    if (next === null || typeof next !== 'object' || Array.isArray(next)) return undefined;
    current = next as Record<string, unknown>;
  }
  return current;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const patterns = new Map<string, RegExp>();

/**
 * Whether a pattern list allows a value: a string or a number (compared as text), matched
 * whole and case-insensitively. `*` stands for a run of characters other than `@`,
 * whitespace and the separators of address lists (`,` `;` `<` `>` `"`), so `*@example.com`
 * cannot be stretched over `evil@attacker.com, x@example.com`.
 */
export function allows(allow: readonly string[], value: unknown): boolean {
  if (typeof value !== 'string' && typeof value !== 'number') return false;
  const text = String(value);
  return allow.some((pattern) => {
    let re = patterns.get(pattern);
    if (!re) {
      const body = pattern
        .split('*')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^@\\s,;<>"]*');
      re = new RegExp(`^${body}$`, 'iu');
      patterns.set(pattern, re);
    }
    return re.test(text);
  });
}
