import { ConnectorError, defineAction } from 'atlas-engine/sdk';

/** Waits, but gives up at once when the step times out or the run is cancelled. */
export const sleep = defineAction<{ ms: number }, { sleptMs: number }>({
  id: 'sleep',
  description: 'Wait for `ms` milliseconds (stops early, failing, when the step is aborted).',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['ms'],
    properties: {
      ms: {
        type: 'integer',
        minimum: 0,
        maximum: 3_600_000,
        description: 'How long to wait, in milliseconds.',
        examples: [1000],
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
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      const aborted = () => {
        clearTimeout(timer);
        reject(ConnectorError.retryable('aborted', 'sleep was aborted', { cause: ctx.signal.reason }));
      };
      const timer = setTimeout(() => {
        ctx.signal.removeEventListener('abort', aborted);
        resolve();
      }, input.ms);
      if (ctx.signal.aborted) aborted();
      else ctx.signal.addEventListener('abort', aborted, { once: true });
    });
    return { sleptMs: Date.now() - started };
  },
});
