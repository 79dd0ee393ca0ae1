import { ConnectorError, defineAction } from 'atlas-engine/sdk';

/**
 * Parks the run until a signal of this name is delivered to it (`POST
 * /v1/runs/:id/signals/:name`, or a webhook route's `signal` mapping); the signal's payload
 * is the step's output. Without one before `timeout`, the step fails with kind `timeout`
 * (or takes the step's `onTimeout`). This code never runs inside a workflow.
 */
export const waitForSignal = defineAction<{ name: string; timeout?: string }, unknown>({
  id: 'waitForSignal',
  description:
    'Wait for a signal (an approval, a callback): the run parks, holds no worker, and goes on with the signal payload as output, or fails with kind `timeout`.',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: {
        type: 'string',
        pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$',
        description: 'The signal name, an identifier: `POST /v1/runs/:id/signals/<name>` delivers it.',
        examples: ['approval'],
      },
      timeout: {
        type: 'string',
        pattern: '^(\\d+(ms|s|m|h|d))+$',
        default: '7d',
        description: 'How long to wait for it.',
        examples: ['3d'],
      },
    },
  },
  output: { description: 'The JSON payload the signal carried.' },
  readOnly: true,
  example: { approved: true },
  async run() {
    throw ConnectorError.fatal('durable_wait', 'core.waitForSignal runs only as a workflow step');
  },
});
