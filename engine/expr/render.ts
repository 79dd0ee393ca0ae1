// Renders `with` inputs and other templated values against a run's scope.
//
// Secrets are resolved asynchronously (decrypted on demand from the tenant store), so
// `render` first collects the secret names a value reads, resolves them all at once through
// the engine's resolver, then renders synchronously. `renderSync` takes pre-resolved secrets.
// Rendered values hold plain secrets: never log them; log the template instead.
import { EXPR_KEY, exprShapeProblem, hasExpr } from './compute.ts';
import { evaluate } from './logic.ts';
import { formatPath, type Path, readPath, SCOPE_ROOTS } from './path.ts';
import { templateRefs } from './refs.ts';
import { findTemplates, isWholeTemplate, parseTemplate } from './template.ts';

export type SecretResolver = (name: string) => Promise<string | undefined>;

/** What templates can read. Absent roots behave as empty: reading them is an error. */
export interface RenderScope {
  trigger?: unknown;
  input?: unknown;
  steps?: Record<string, { output?: unknown; status?: string }>;
  tenant?: { id: string; name?: string; config?: Record<string, unknown> };
  run?: { id: string; workflowId: string };
  /** A resolver (for `render`) or already resolved values (for either function). */
  secrets?: SecretResolver | Record<string, string | undefined>;
  /**
   * Names a construct adds to the scope (a loop's item and `loop`): read like the roots, by
   * templates and `$expr`. They may not shadow a root.
   */
  locals?: Record<string, unknown>;
  /** What `{ now: [] }` answers in `$expr`: a time recorded for this rendering, never the clock. */
  now?: Date | string;
}

export type ResolvedScope = Omit<RenderScope, 'secrets'> & { secrets?: Record<string, string | undefined> };

/** A template that cannot be rendered: a missing value, an unknown root, a syntax error. */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly template: string,
    readonly path: Path,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** Renders every template in `value` (deeply); resolves the secrets it reads first. */
export async function render(value: unknown, scope: RenderScope): Promise<unknown> {
  return renderSync(value, await resolveSecrets(value, scope));
}

async function resolveSecrets(value: unknown, scope: RenderScope): Promise<ResolvedScope> {
  const source = scope.secrets;
  if (typeof source !== 'function') return scope as ResolvedScope;
  const names = new Set<string>();
  for (const ref of templateRefs(value)) {
    if (ref.path[0] === 'secrets' && typeof ref.path[1] === 'string') names.add(ref.path[1]);
  }
  const entries = await Promise.all([...names].map(async (name) => [name, await source(name)] as const));
  return { ...scope, secrets: Object.fromEntries(entries) };
}

/** Renders with pre-resolved secrets. A string that is exactly one template keeps the value's type. */
export function renderSync(value: unknown, scope: ResolvedScope): unknown {
  if (typeof value === 'string') return renderString(value, scope);
  if (hasExpr(value)) return compute(value, scope);
  if (Array.isArray(value)) return value.map((item) => renderSync(item, scope));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = renderSync(item, scope);
    return out;
  }
  return value;
}

/** The data `$expr` rules (and `if` conditions) read: the scope without secrets. */
export function logicData(scope: Omit<RenderScope, 'secrets'>): Record<string, unknown> {
  return {
    ...(scope.locals ?? {}),
    trigger: scope.trigger,
    input: scope.input,
    steps: scope.steps ?? {},
    tenant: scope.tenant,
    run: scope.run,
  };
}

function compute(node: Record<string, unknown>, scope: ResolvedScope): unknown {
  const problem = exprShapeProblem(node);
  if (problem) throw new TemplateError(problem, EXPR_KEY, []);
  try {
    return evaluate(node[EXPR_KEY], logicData(scope), scope.now);
  } catch (err) {
    const rule = JSON.stringify(node[EXPR_KEY]);
    const shown = rule.length > 80 ? `${rule.slice(0, 77)}...` : rule;
    throw new TemplateError(`$expr ${shown}: ${(err as Error).message}`, EXPR_KEY, []);
  }
}

function renderString(text: string, scope: ResolvedScope): unknown {
  const { matches, unclosedAt } = findTemplates(text);
  if (unclosedAt !== undefined) throw new TemplateError(`"{{" is never closed in "${text}"`, text, []);
  if (matches.length === 0) return text;
  if (isWholeTemplate(text, matches)) return evaluateTemplate(matches[0]!.inner, matches[0]!.raw, scope);
  let out = '';
  let last = 0;
  for (const m of matches) {
    out += text.slice(last, m.index) + stringify(evaluateTemplate(m.inner, m.raw, scope));
    last = m.index + m.raw.length;
  }
  return out + text.slice(last);
}

function evaluateTemplate(inner: string, raw: string, scope: ResolvedScope): unknown {
  let parsed: ReturnType<typeof parseTemplate>;
  try {
    parsed = parseTemplate(inner);
  } catch (err) {
    throw new TemplateError(`${raw}: ${(err as Error).message}`, raw, []);
  }
  const [root] = parsed.path;
  const local = scope.locals !== undefined && Object.hasOwn(scope.locals, String(root));
  if (!local && !(SCOPE_ROOTS as readonly unknown[]).includes(root)) {
    const roots = [...SCOPE_ROOTS, ...Object.keys(scope.locals ?? {})];
    throw new TemplateError(
      `${raw}: unknown root "${String(root)}" (use ${roots.join(', ')})`,
      raw,
      parsed.path,
    );
  }
  const result = readPath(local ? scope.locals : scope, parsed.path);
  // `??` applies to null as well as to a missing value, as in JavaScript.
  if (result.found && result.value !== undefined && (result.value !== null || !parsed.fallback))
    return result.value;
  if (parsed.fallback) return parsed.fallback.value;
  const missing = formatPath(result.found ? parsed.path : parsed.path.slice(0, result.at + 1));
  const what =
    parsed.path[0] === 'secrets'
      ? `the secret ${String(parsed.path[1])} is not set`
      : `${missing} does not exist${endedWithout(parsed.path, scope)}`;
  throw new TemplateError(`${raw}: ${what}`, raw, parsed.path);
}

/** Why a step's output is missing: it was skipped or failed; with the fallback to add. */
function endedWithout(path: Path, scope: ResolvedScope): string {
  if (path[0] !== 'steps' || path[2] !== 'output') return '';
  const status = scope.steps?.[String(path[1])]?.status;
  if (status !== 'skipped' && status !== 'failed') return '';
  const read = formatPath(path);
  return ` because step "${String(path[1])}" ${status === 'skipped' ? 'was skipped' : 'failed'}; add a fallback: {{ ${read} ?? '' }}`;
}

/** How a value reads inside a longer string: null prints nothing, objects print as JSON. */
function stringify(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
