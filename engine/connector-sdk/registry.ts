// The connector/action registry, shared by the manifest validator (does `uses` name an
// action, do literal inputs fit its schema, do templates read fields its output declares)
// and the engine (find the action, check its input before `run`, its output after).
import type { ValidateFunction } from 'ajv';
import { makeAjv } from '../json/ajv.ts';
import { describeErrors, type SchemaIssue } from './schema-errors.ts';
import { closest } from './suggest.ts';
import type { ActionDefinition, ConnectorDefinition, JsonSchema } from './types.ts';

export interface ActionEntry {
  /** `<connector id>.<action id>`, as a step's `uses` names it. */
  uses: string;
  connector: ConnectorDefinition;
  action: ActionDefinition;
}

export interface SchemaCheck {
  ok: boolean;
  /** Plain sentences with the path of the offending value; empty when `ok`. */
  issues: SchemaIssue[];
}

export interface ConnectorRegistry {
  connectors(): readonly ConnectorDefinition[];
  connector(id: string): ConnectorDefinition | undefined;
  /** Every action, sorted by `uses`. */
  actions(): readonly ActionEntry[];
  action(uses: string): ActionEntry | undefined;
  /** The closest known `uses` to a misspelled one (connector first, then action). */
  suggest(uses: string): string | undefined;
  /** Compiled (and cached) validators of an action's input and output schemas. */
  inputValidator(uses: string): ValidateFunction;
  outputValidator(uses: string): ValidateFunction;
  validateInput(uses: string, value: unknown): SchemaCheck;
  validateOutput(uses: string, value: unknown): SchemaCheck;
}

/** Splits `uses` on its first dot: the action id itself may be dotted (`msgraph.outlook.sendMail`). */
export function splitUses(uses: string): { connectorId: string; actionId: string } | undefined {
  const dot = uses.indexOf('.');
  if (dot <= 0 || dot === uses.length - 1) return undefined;
  return { connectorId: uses.slice(0, dot), actionId: uses.slice(dot + 1) };
}

/** Builds the registry; throws when two connectors share an id (a programming error). */
export function makeConnectorRegistry(list: readonly ConnectorDefinition[]): ConnectorRegistry {
  const byId = new Map<string, ConnectorDefinition>();
  const entries = new Map<string, ActionEntry>();
  for (const connector of list) {
    if (byId.has(connector.id)) throw new Error(`two connectors have the id "${connector.id}"`);
    byId.set(connector.id, connector);
    for (const action of connector.actions) {
      const uses = `${connector.id}.${action.id}`;
      entries.set(uses, { uses, connector, action });
    }
  }
  const sorted = [...entries.values()].sort((a, b) => a.uses.localeCompare(b.uses));
  const compile = makeCompiler(entries);

  return Object.freeze({
    connectors: () => list,
    connector: (id: string) => byId.get(id),
    actions: () => sorted,
    action: (uses: string) => entries.get(uses),
    suggest: (uses: string) => suggestUses(uses, byId, entries),
    inputValidator: (uses: string) => compile(uses, 'input'),
    outputValidator: (uses: string) => compile(uses, 'output'),
    validateInput: (uses: string, value: unknown) => check(compile(uses, 'input'), value),
    validateOutput: (uses: string, value: unknown) => check(compile(uses, 'output'), value),
  });
}

function makeCompiler(entries: Map<string, ActionEntry>) {
  // Action schemas are compiled lazily: `atlas validate` only pays for the actions it sees.
  const ajv = makeAjv();
  const cache = new Map<string, ValidateFunction>();
  return (uses: string, side: 'input' | 'output'): ValidateFunction => {
    const key = `${uses}#${side}`;
    let validate = cache.get(key);
    if (validate) return validate;
    const entry = entries.get(uses);
    if (!entry) throw new Error(`no action "${uses}" is registered`);
    try {
      validate = ajv.compile(entry.action[side] as JsonSchema);
    } catch (err) {
      throw new Error(`the ${side} schema of ${uses} is invalid: ${(err as Error).message}`, { cause: err });
    }
    cache.set(key, validate);
    return validate;
  };
}

function check(validate: ValidateFunction, value: unknown): SchemaCheck {
  if (validate(value)) return { ok: true, issues: [] };
  return { ok: false, issues: describeErrors(validate.errors ?? [], 'the input') };
}

function suggestUses(
  uses: string,
  byId: Map<string, ConnectorDefinition>,
  entries: Map<string, ActionEntry>,
): string | undefined {
  const split = splitUses(uses);
  if (!split) return closest(uses, entries.keys());
  const connector = byId.get(split.connectorId);
  if (connector) {
    const action = closest(
      split.actionId,
      connector.actions.map((a) => a.id),
    );
    return action === undefined ? undefined : `${connector.id}.${action}`;
  }
  const fixed = closest(split.connectorId, byId.keys());
  if (fixed === undefined) return closest(uses, entries.keys());
  const candidate = `${fixed}.${split.actionId}`;
  return entries.has(candidate) ? candidate : suggestUses(candidate, byId, entries);
}
