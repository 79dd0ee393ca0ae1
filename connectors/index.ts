// The built-in connectors. A connector module declares schemas and functions only: it must
// not import a provider SDK at top level (load it inside `run` or a lazy client.ts), so
// `atlas validate` stays fast.
import type { ConnectorDefinition } from '../engine/connector-sdk/index.ts';
import { core } from './core/index.ts';
import { http } from './http/index.ts';

export const builtinConnectors: ConnectorDefinition[] = [core, http];
