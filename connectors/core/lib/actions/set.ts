import { defineAction } from 'atlas-engine/sdk';

/** Shapes data: the output is the rendered `value`, for later steps to read. */
export const set = defineAction<{ value: unknown }, unknown>({
  id: 'set',
  description:
    'Return `value` (after its templates are rendered) as the output, to shape data for later steps.',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['value'],
    properties: {
      value: {
        description: 'Any value; templates inside it are rendered.',
        examples: [{ total: '{{ steps.sum.output }}' }],
      },
    },
  },
  output: { description: 'The rendered `value`.' },
  readOnly: true,
  pure: true,
  example: {},
  async run(_ctx, input) {
    return input.value;
  },
});
