/**
 * The checks a plugin connector passes before Atlas starts with it: what `defineConnector`
 * and `defineAction` check, done again (a plugin may build its definition by hand), plus
 * schemas that compile, a known job type and the SDK range it accepts.
 */
import semver from 'semver';
import {
  type ActionDefinition,
  type ConnectorDefinition,
  JOB_TYPES,
  SDK_VERSION,
} from '../connector-sdk/index.ts';
import { makeAjv } from '../json/ajv.ts';

const ID = /^[a-z][a-z0-9_]*$/;
const ACTION_ID = /^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)*$/;
const AUTH_TYPES = new Set(['none', 'env', 'secret', 'oauth']);

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Why the connector is refused (the end of a sentence that starts with the plugin), or undefined. */
export function checkPluginConnector(connector: ConnectorDefinition): string | undefined {
  if (typeof connector.id !== 'string' || !ID.test(connector.id))
    return `declares the connector id ${JSON.stringify(connector.id)}, which must match ${ID}`;
  const range = connector.sdkVersion;
  if (range === undefined)
    return `(connector ${connector.id}) declares no sdkVersion: set the SDK range it accepts, e.g. sdkVersion: '^${semver.major(SDK_VERSION)}.0.0'`;
  if (typeof range !== 'string' || semver.validRange(range) === null)
    return `(connector ${connector.id}) declares sdkVersion ${JSON.stringify(range)}, which is not a semver range`;
  if (!semver.satisfies(SDK_VERSION, range))
    return `(connector ${connector.id}) accepts SDK versions ${range}, and this Atlas has SDK ${SDK_VERSION}`;
  if (typeof connector.description !== 'string' || connector.description.trim() === '')
    return `(connector ${connector.id}) has no description`;
  if (!isObject(connector.auth) || !AUTH_TYPES.has(String(connector.auth['type'])))
    return `(connector ${connector.id}) declares no valid auth: none, env, secret or oauth`;
  if (!Array.isArray(connector.actions) || connector.actions.length === 0)
    return `(connector ${connector.id}) declares no actions`;
  const seen = new Set<string>();
  const ajv = makeAjv();
  for (const action of connector.actions) {
    const problem = checkAction(connector.id, action, ajv);
    if (problem) return problem;
    if (seen.has(action.id)) return `declares the action ${connector.id}.${action.id} twice`;
    seen.add(action.id);
  }
  return undefined;
}

function checkAction(
  connectorId: string,
  action: ActionDefinition,
  ajv: ReturnType<typeof makeAjv>,
): string | undefined {
  if (!isObject(action)) return `(connector ${connectorId}) lists an action that is not an object`;
  if (typeof action.id !== 'string' || !ACTION_ID.test(action.id))
    return `(connector ${connectorId}) declares the action id ${JSON.stringify(action.id)}, which must match ${ACTION_ID}`;
  const uses = `${connectorId}.${action.id}`;
  if (typeof action.description !== 'string' || action.description.trim() === '')
    return `declares the action ${uses} without a description`;
  if (typeof action.run !== 'function') return `declares the action ${uses} without a run function`;
  if (action.jobType !== undefined && !(JOB_TYPES as readonly string[]).includes(action.jobType))
    return `declares the action ${uses} for job type ${JSON.stringify(action.jobType)}, which is none of ${JOB_TYPES.join(', ')}`;
  for (const side of ['input', 'output'] as const) {
    const schema = action[side];
    if (!isObject(schema)) return `declares the action ${uses} without an ${side} schema`;
    try {
      ajv.compile(schema);
    } catch (err) {
      // Ajv lists every failed alternative; the first names the offending keyword.
      const first = (err as Error).message.replace(/^schema is invalid: /, '').split(', ')[0];
      return `declares an invalid ${side} schema for ${uses}: ${first?.replace(/^data\//, '')}`;
    }
  }
  return undefined;
}
