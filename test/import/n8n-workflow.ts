/** Small n8n workflows for the importer's tests: a trigger, the nodes, one chain of connections. */
import { convertWorkflow } from '../../engine/import/n8n/convert.ts';
import { type N8nWorkflow, readWorkflow } from '../../engine/import/n8n/export.ts';

/** The trigger every test workflow starts with. */
export const START = {
  name: 'Start',
  type: 'n8n-nodes-base.executeWorkflowTrigger',
  typeVersion: 1,
  position: [0, 0],
  parameters: {},
};

/** A workflow started by {@link START}, its nodes connected along `chain`. */
export function workflow(
  nodes: Record<string, unknown>[],
  chain: string[],
  extra: Partial<N8nWorkflow> = {},
): N8nWorkflow {
  const connections: Record<string, unknown> = {};
  for (const [i, from] of chain.slice(0, -1).entries())
    connections[from] = { main: [[{ node: chain[i + 1], type: 'main', index: 0 }]] };
  return readWorkflow(
    {
      name: 'test',
      nodes: [START, ...nodes],
      connections,
      ...extra,
    },
    'test.json',
  );
}

export const node = (
  name: string,
  type: string,
  typeVersion: number,
  parameters: Record<string, unknown>,
) => ({
  name,
  type: `n8n-nodes-base.${type}`,
  typeVersion,
  position: [0, 0],
  parameters,
});

export const stepsOf = (wf: N8nWorkflow, opts: Record<string, unknown> = {}) => {
  const c = convertWorkflow(wf, { id: 'WF-100', routes: new Set(), ...opts });
  return { steps: (c.workflow?.['steps'] ?? []) as Record<string, unknown>[], c };
};
