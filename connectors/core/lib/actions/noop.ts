import { defineAction } from 'atlas-engine/sdk';

/** Does nothing and returns its input: a placeholder step, or a way to name a value. */
export const noop = defineAction<Record<string, unknown>, Record<string, unknown>>({
  id: 'noop',
  description: 'Do nothing; the output is the input (an empty object when there is none).',
  input: { type: 'object', description: 'Any fields; they are returned unchanged.' },
  output: { type: 'object', description: 'The input, unchanged.' },
  readOnly: true,
  pure: true,
  example: {},
  async run(_ctx, input) {
    return input ?? {};
  },
});
