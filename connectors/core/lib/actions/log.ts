import { defineAction } from 'atlas-engine/sdk';

type Level = 'debug' | 'info' | 'warn' | 'error';

/** Writes one line to the run's log, tagged with the run and step. */
export const log = defineAction<
  { message: string; level?: Level; data?: Record<string, unknown> },
  { message: string; level: Level }
>({
  id: 'log',
  description: "Write a message to the run's log.",
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['message'],
    properties: {
      message: {
        type: 'string',
        description: 'The message.',
        examples: ['Digest sent to {{ input.email }}'],
      },
      level: { enum: ['debug', 'info', 'warn', 'error'], default: 'info', description: 'The log level.' },
      data: { type: 'object', description: 'Structured fields logged with the message.' },
    },
  },
  output: {
    type: 'object',
    additionalProperties: false,
    required: ['message', 'level'],
    properties: { message: { type: 'string' }, level: { enum: ['debug', 'info', 'warn', 'error'] } },
  },
  readOnly: true,
  example: { message: 'hello', level: 'info' },
  async run(ctx, input) {
    const level = input.level ?? 'info';
    ctx.log[level]({ ...input.data, runId: ctx.runId, stepId: ctx.stepId }, input.message);
    return { message: input.message, level };
  },
});
