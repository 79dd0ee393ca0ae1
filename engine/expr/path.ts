// Paths into the run scope, shared by templates (`{{ steps.fetch.output.items[0] }}`) and
// JSON Logic `var`s (`steps.fetch.output.items.0`).

export type PathSegment = string | number;
export type Path = PathSegment[];

/**
 * The roots a template may read. `secrets` is template-only: JSON Logic never sees it. `run` is
 * the run itself (`run.id`, `run.workflowId`): a button or link that must find it again.
 */
export const SCOPE_ROOTS = ['trigger', 'input', 'steps', 'tenant', 'run', 'secrets'] as const;
export type ScopeRoot = (typeof SCOPE_ROOTS)[number];

/**
 * The fields of `trigger` per trigger type: the contract between the runtime (which builds
 * the trigger object of a run) and the validator (which checks that templates read fields
 * that will exist). Fields marked open hold provider data of any shape.
 */
export const TRIGGER_FIELDS: Record<string, { fields: readonly string[]; open: readonly string[] }> = {
  schedule: { fields: ['type', 'at', 'scheduledAt'], open: [] },
  webhook: {
    fields: ['type', 'at', 'route', 'eventId', 'eventType', 'body', 'headers', 'query'],
    open: ['body', 'headers', 'query'],
  },
  manual: { fields: ['type', 'at', 'by'], open: [] },
  event: { fields: ['type', 'at', 'workflow', 'runId', 'status', 'output'], open: ['output'] },
};

/** The fields of `tenant` in the run scope; `config` (the tenant's values for the workflow) is free-form. */
export const TENANT_FIELDS = ['id', 'name', 'config'] as const;

/** The fields of `steps.<id>`. */
export const STEP_FIELDS = ['output', 'status'] as const;

/** Renders a path the way an author writes it in a template: `steps.a.output.items[0]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Splits a JSON Logic `var` path (`a.b.0`) into segments; numeric parts become indexes. */
export function splitDotted(path: string): Path {
  if (path === '') return [];
  return path.split('.').map((part) => (/^(0|[1-9]\d*)$/.test(part) ? Number(part) : part));
}

/**
 * Reads a path from a value. Returns `{ found: false, at }` with the index of the first
 * missing segment instead of `undefined`, so callers can say exactly what is missing.
 */
export function readPath(
  value: unknown,
  path: readonly PathSegment[],
): { found: true; value: unknown } | { found: false; at: number } {
  let current = value;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    if (current === null || typeof current !== 'object') return { found: false, at: i };
    if (Array.isArray(current) && typeof segment === 'number') {
      if (segment >= current.length) return { found: false, at: i };
      current = current[segment];
      continue;
    }
    const key = String(segment);
    if (!Object.hasOwn(current, key)) return { found: false, at: i };
    current = (current as Record<string, unknown>)[key];
  }
  return { found: true, value: current };
}
