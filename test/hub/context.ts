// The test context is part of the connector test kit (`atlas-engine/sdk/testing`).
import type { ConnectorDefinition } from '../../engine/connector-sdk/index.ts';
import { makeTestContext, type TestContextOptions } from '../../engine/testing/context.ts';

export * from '../../engine/testing/context.ts';

/** Runs one action of a connector with a fresh test context. */
export async function runAction<O = unknown>(
  connector: ConnectorDefinition,
  actionId: string,
  input: unknown,
  opts: TestContextOptions = {},
): Promise<O> {
  const action = connector.actions.find((a) => a.id === actionId);
  if (!action) throw new Error(`${connector.id} has no action ${actionId}`);
  const { ctx } = makeTestContext(connector, actionId, { ...opts, input });
  return (await action.run(ctx, input)) as O;
}
