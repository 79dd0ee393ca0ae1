/**
 * Agents: `agent.run` runs an Agent manifest's tool-calling loop over an OpenAI-compatible
 * chat completions API, each tool call being one of the agent's connector actions.
 *
 * Why a factory: the loop needs the catalogue (the agent by id) and the connector registry
 * (each tool's schema), but the catalogue is validated against the registry, which holds this
 * connector. So the declaration (ids, schemas) stands alone in `agent`, which `atlas validate`
 * loads, and the engine (engine/services.ts) registers `makeAgentConnector(directory)` instead,
 * whose directory reads the catalogue and the registry once they exist, when a task runs.
 * A connector imports only the SDK, so the directory is an SDK type, {@link AgentDirectory}.
 */
import { type AgentDirectory, type ConnectorDefinition, defineConnector } from 'atlas-engine/sdk';
import { PROVIDERS } from '../openai/client.ts';
import { MODEL_SETTINGS } from './client.ts';
import { runAction } from './lib/actions/run.ts';

const keys = Object.values(PROVIDERS).map((p) => p.key);

export function makeAgentConnector(directory?: AgentDirectory): ConnectorDefinition {
  return defineConnector({
    id: 'agent',
    description: 'AI agents: a model calls the agent’s connector actions as tools until it answers.',
    // The providers' keys, as for the `openai` connector; a manifest may name its own secret.
    auth: { type: 'secret', secrets: keys, envFallback: Object.fromEntries(keys.map((k) => [k, k])) },
    settings: MODEL_SETTINGS,
    actions: [runAction(directory)],
  });
}

/** The declaration alone: tasks fail as `not_configured` until the engine supplies a directory. */
export const agent = makeAgentConnector();
