/** The connectors a command sees: the built-ins and the plugins of ATLAS_CONNECTORS. */
import { parseConnectorPlugins } from '../config.ts';
import type { ConnectorDefinition } from '../connector-sdk/index.ts';
import { PluginError, withPlugins } from '../plugins/index.ts';
import { CliError, type CliIO } from './command.ts';

export async function cliConnectors(io: CliIO): Promise<ConnectorDefinition[]> {
  try {
    return (await withPlugins(parseConnectorPlugins(io.env), io.cwd)).all;
  } catch (err) {
    if (err instanceof PluginError) throw new CliError(err.message);
    throw err;
  }
}
