import type { ActionDefinition, ConnectorDefinition } from './types.ts';

const ID = /^[a-z][a-z0-9_]*$/;
const ACTION_ID = /^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)*$/;

/** Declares an action. The same input schema validates manifests, checks input at run
 * time and becomes an agent's tool definition. */
export function defineAction<I = unknown, O = unknown>(
  action: ActionDefinition<I, O>,
): ActionDefinition<I, O> {
  if (!ACTION_ID.test(action.id)) throw new Error(`action id "${action.id}" must match ${ACTION_ID}`);
  return Object.freeze(action);
}

/** Declares a connector: plain data plus functions. */
export function defineConnector(connector: ConnectorDefinition): ConnectorDefinition {
  if (!ID.test(connector.id)) throw new Error(`connector id "${connector.id}" must match ${ID}`);
  const seen = new Set<string>();
  for (const action of connector.actions) {
    if (seen.has(action.id)) throw new Error(`connector ${connector.id} declares action ${action.id} twice`);
    seen.add(action.id);
  }
  return Object.freeze({
    ...connector,
    actions: Object.freeze([...connector.actions]) as ActionDefinition[],
  });
}
