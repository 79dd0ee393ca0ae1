import { ConnectorError, defineAction, type ErrorKind } from 'atlas-engine/sdk';

interface FailInput {
  kind?: ErrorKind;
  code?: string;
  message?: string;
  retryAfterMs?: number;
  times?: number;
}

/**
 * Fails on purpose with a chosen error class, to test retry policies and `onError`. With
 * `times: N` only the first N attempts fail, so a retried step succeeds on attempt N+1.
 */
export const fail = defineAction<FailInput, { attempt: number }>({
  id: 'fail',
  description:
    'Fail with a chosen error kind (retryable, fatal, auth); with `times`, only the first N attempts fail.',
  input: {
    type: 'object',
    additionalProperties: false,
    properties: {
      kind: { enum: ['retryable', 'fatal', 'auth'], default: 'fatal', description: 'The error class.' },
      code: { type: 'string', minLength: 1, default: 'core_fail', description: 'The error code.' },
      message: { type: 'string', default: 'failed on purpose', description: 'The error message.' },
      retryAfterMs: {
        type: 'integer',
        minimum: 0,
        description: 'A provider-style requested delay before the next attempt.',
      },
      times: {
        type: 'integer',
        minimum: 1,
        description: 'Fail only the first N attempts; always fail when absent.',
      },
    },
  },
  output: {
    type: 'object',
    additionalProperties: false,
    required: ['attempt'],
    properties: { attempt: { type: 'integer', minimum: 1, description: 'The attempt that succeeded.' } },
  },
  readOnly: true,
  example: { attempt: 1 },
  async run(ctx, input) {
    if (input.times !== undefined && ctx.attempt > input.times) return { attempt: ctx.attempt };
    throw new ConnectorError({
      kind: input.kind ?? 'fatal',
      code: input.code ?? 'core_fail',
      message: input.message ?? 'failed on purpose',
      ...(input.retryAfterMs === undefined ? {} : { retryAfterMs: input.retryAfterMs }),
    });
  },
});
