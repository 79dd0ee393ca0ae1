/**
 * The connectors a process runs: the built-ins and the plugins of ATLAS_CONNECTORS. The
 * engine (services.ts) and the commands that read manifests (`atlas validate`, `atlas
 * connectors`, `atlas run --plan`) all start from here, so a plugin is valid, listed and
 * runnable exactly where a built-in is.
 */
import { builtinConnectors } from '../../connectors/index.ts';
import type { ConnectorDefinition } from '../connector-sdk/index.ts';
import { type LoadedPlugins, loadPlugins } from './load.ts';

export { type LoadedPlugins, loadPlugins, PLUGIN_LOAD_TIMEOUT_MS, PluginError } from './load.ts';
export type { PluginInfo } from './types.ts';

/** The built-in connectors (or `builtins`) followed by the plugins, checked against them. */
export async function withPlugins(
  sources: readonly string[],
  cwd: string,
  builtins: readonly ConnectorDefinition[] = builtinConnectors,
): Promise<LoadedPlugins & { all: ConnectorDefinition[] }> {
  const loaded = await loadPlugins(sources, { builtins, cwd });
  return { ...loaded, all: [...builtins, ...loaded.connectors] };
}
