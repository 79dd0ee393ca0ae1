import { ConnectorError, defineAction } from 'atlas-engine/sdk';

/**
 * Starts a run of another workflow for the same tenant (a sub-workflow). The runtime starts
 * the child and parks the calling run (status `waiting`, no worker held) until the child
 * ends; the child's `output` is the step's output, and a failed child fails the step with the
 * child's error kind. `wait: false` starts the child and goes on with `{ runId }`. This code
 * never runs inside a workflow.
 */
export const run = defineAction<{ workflow: string; input?: unknown; wait?: boolean }, unknown>({
  id: 'run',
  description:
    'Run another workflow as a child (same tenant): wait for it without holding a worker and output its `output`, or start it and go on with `{ runId }` (`wait: false`).',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['workflow'],
    properties: {
      workflow: {
        type: 'string',
        pattern: '^WF-[0-9]{3,4}$',
        description: 'The id of the workflow to run; a literal, so that calls are checked statically.',
        examples: ['WF-001'],
      },
      input: {
        description: "The child run's input, checked against the child workflow's input schema.",
        examples: [{ email: '{{ input.email }}' }],
      },
      wait: {
        type: 'boolean',
        default: true,
        description: 'Wait for the child to end (true), or start it and go on with `{ runId }`.',
      },
    },
  },
  output: { description: "The child run's `output` (or `{ runId }` with `wait: false`)." },
  readOnly: false,
  example: { runId: '00000000-0000-4000-8000-000000000000' },
  async run() {
    throw ConnectorError.fatal('sub_workflow', 'workflow.run runs only as a workflow step');
  },
});
