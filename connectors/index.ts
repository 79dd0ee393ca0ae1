// The built-in connectors. A connector module declares schemas and functions only: it must
// not import a provider SDK at top level (load it inside `run` or a lazy client.ts), so
// `atlas validate` stays fast.
import type { AgentDirectory, ConnectorDefinition, KnowledgeBase } from 'atlas-engine/sdk';
import { agent, makeAgentConnector } from './agent/index.ts';
import { core } from './core/index.ts';
import { email } from './email/index.ts';
import { files } from './files/index.ts';
import { google } from './google/index.ts';
import { http } from './http/index.ts';
import { kb, makeKbConnector } from './kb/index.ts';
import { msgraph } from './msgraph/index.ts';
import { openai } from './openai/index.ts';
import { social } from './social/index.ts';
import { stripe } from './stripe/index.ts';
import { telegram } from './telegram/index.ts';
import { webhook } from './webhook/index.ts';
import { workflow } from './workflow/index.ts';

export const builtinConnectors: ConnectorDefinition[] = [
  core,
  http,
  webhook,
  telegram,
  msgraph,
  email,
  stripe,
  google,
  openai,
  social,
  agent,
  files,
  kb,
  workflow,
];

/** The built-in connectors with agents able to run, over the engine's directory (engine/services.ts). */
export function connectorsWithAgents(
  directory: AgentDirectory,
  knowledge?: KnowledgeBase,
): ConnectorDefinition[] {
  return builtinConnectors.map((c) =>
    c === agent ? makeAgentConnector(directory) : c === kb && knowledge ? makeKbConnector(knowledge) : c,
  );
}
