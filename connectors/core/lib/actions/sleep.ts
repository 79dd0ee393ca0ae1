import { ConnectorError, defineAction } from 'atlas-engine/sdk';

interface SleepInput {
  ms?: number;
  duration?: string;
}

/**
 * `ms`: waits inside the attempt, and gives up at once when the step times out or the run is
 * cancelled. `duration`: a durable wait of any length; the runtime parks the run (status
 * `waiting`, no worker held) and resumes it through the queue, so this code never runs then.
 */
export const sleep = defineAction<SleepInput, { sleptMs: number }>({
  id: 'sleep',
  description:
    'Wait: `ms` milliseconds inside the step (stops early, failing, when the step is aborted), or a durable `duration` (`3d`) that parks the run and resumes it on time, across restarts.',
  input: {
    type: 'object',
    additionalProperties: false,
    oneOf: [{ required: ['ms'] }, { required: ['duration'] }],
    properties: {
      ms: {
        type: 'integer',
        minimum: 0,
        maximum: 3_600_000,
        description: 'How long to wait inside the step, in milliseconds.',
        examples: [1000],
      },
      duration: {
        type: 'string',
        pattern: '^(\\d+(ms|s|m|h|d))+$',
        description: 'How long the run waits, durably: `30s`, `2h`, `3d`. The run holds no worker meanwhile.',
        examples: ['3d'],
      },
    },
  },
  output: {
    type: 'object',
    additionalProperties: false,
    required: ['sleptMs'],
    properties: { sleptMs: { type: 'integer', minimum: 0 } },
  },
  readOnly: true,
  example: { sleptMs: 1000 },
  async run(ctx, input) {
    if (input.ms === undefined)
      throw ConnectorError.fatal('durable_wait', 'a durable wait (`duration`) runs only as a workflow step');
    const ms = input.ms;
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      const aborted = () => {
        clearTimeout(timer);
        reject(ConnectorError.retryable('aborted', 'sleep was aborted', { cause: ctx.signal.reason }));
      };
      const timer = setTimeout(() => {
        ctx.signal.removeEventListener('abort', aborted);
        resolve();
      }, ms);
      if (ctx.signal.aborted) aborted();
      else ctx.signal.addEventListener('abort', aborted, { once: true });
    });
    return { sleptMs: Date.now() - started };
  },
});
