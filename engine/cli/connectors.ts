import { makeConnectorRegistry } from '../connector-sdk/index.ts';
import { CliError, type Command } from './command.ts';
import { parseCommandArgs } from './main.ts';
import { cliConnectors } from './plugins.ts';

export const connectors: Command = {
  name: 'connectors',
  summary: 'List connectors and their actions, or show one action with its schemas',
  usage: `Usage: atlas connectors [connector | connector.action] [--format text|json]

Without an argument, lists every connector and its actions. With a connector id, lists its
actions; with an action (as a step's uses names it), prints its input and output schemas.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      args,
      { format: { type: 'string', default: 'text' } },
      true,
    );
    const registry = makeConnectorRegistry(await cliConnectors(io));
    const [target] = positionals;
    const entry = target === undefined ? undefined : registry.action(target);
    if (entry) {
      const { action } = entry;
      io.out(
        JSON.stringify(
          { uses: entry.uses, description: action.description, input: action.input, output: action.output },
          null,
          2,
        ),
      );
      return 0;
    }
    const list = registry.connectors().filter((c) => target === undefined || c.id === target);
    if (list.length === 0) {
      const hint =
        registry.suggest(target ?? '') ??
        registry.connectors().find((c) => c.id.startsWith(target ?? ''))?.id;
      throw new CliError(`no connector or action "${target}"${hint ? `; did you mean "${hint}"?` : ''}`);
    }
    if (values.format === 'json') {
      io.out(
        JSON.stringify(
          list.map((c) => ({ id: c.id, description: c.description, actions: c.actions.map((a) => a.id) })),
        ),
      );
      return 0;
    }
    for (const c of list) {
      io.out(`${c.id}  ${c.description}`);
      for (const a of c.actions) io.out(`  ${c.id}.${a.id}  ${a.description}`);
    }
    return 0;
  },
};
