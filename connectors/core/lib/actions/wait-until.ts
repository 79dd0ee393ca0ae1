import { ConnectorError, defineAction } from 'atlas-engine/sdk';

/**
 * A durable wait until a point in time: the runtime parks the run (status `waiting`, no
 * worker held) and resumes it through the queue at `until`; a time already past goes on at
 * once. This code never runs inside a workflow.
 */
export const waitUntil = defineAction<{ until: string }, { until: string }>({
  id: 'waitUntil',
  description:
    'Wait until a time (ISO 8601, or a template that gives one): the run parks, holds no worker, and resumes on time across restarts.',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['until'],
    properties: {
      until: {
        type: 'string',
        format: 'date-time',
        description: 'When the run goes on, with a time zone offset.',
        examples: ['2026-12-01T09:00:00Z'],
      },
    },
  },
  output: {
    type: 'object',
    additionalProperties: false,
    required: ['until'],
    properties: { until: { type: 'string', description: 'The time waited for (UTC).' } },
  },
  readOnly: true,
  example: { until: '2026-12-01T09:00:00.000Z' },
  async run() {
    throw ConnectorError.fatal('durable_wait', 'core.waitUntil runs only as a workflow step');
  },
});
