import { describe, expect, it } from 'vitest';
import { builtinConnectors } from '../../connectors/index.ts';
import { exprType } from '../../engine/manifest/checks/expressions.ts';
import { checkScopePath, type ScopeModel } from '../../engine/manifest/checks/scope.ts';
import { formatErrors, validateSources } from '../../engine/manifest/index.ts';

const head = `apiVersion: atlas/v1
kind: Workflow
id: WF-900
trigger: { type: manual }
input:
  type: object
  properties:
    amount: { type: number }
    name: { type: string }
    items: { type: array, items: { type: object, properties: { sku: { type: string }, qty: { type: integer } } } }
`;

function check(body: string) {
  const { errors, warnings } = validateSources([{ file: 'wf.yaml', text: head + body }], {
    connectors: builtinConnectors,
  });
  return formatErrors([...errors, ...warnings])
    .split('\n')
    .filter((l) => l !== '');
}

describe('static checks of computed values and outputs', () => {
  it('knows the output of core.set from its literal value', () => {
    const lines = check(`steps:
  - id: shape
    uses: core.set
    with:
      value:
        total: { $expr: { "*": [{ var: input.amount }, 2] } }
        label: "{{ input.name }}"
        skus: { $expr: { map: [{ var: input.items }, { var: sku }] } }
  - id: say
    uses: core.log
    with:
      message: "{{ steps.shape.output.value.total }} {{ steps.shape.output.total.cents }} {{ steps.shape.output.skus[0].x }}"
  - id: fine
    uses: core.log
    with:
      message: "{{ steps.shape.output.total }} {{ steps.shape.output.label }} {{ steps.shape.output.skus[0] }}"
`);
    expect(lines).toEqual([
      'wf.yaml:22:17  Workflow WF-900: {{ steps.shape.output.value.total }}: steps.shape.output has no field "value" in the output of core.set (it has total, label, skus)',
      'wf.yaml:22:54  Workflow WF-900: {{ steps.shape.output.total.cents }}: steps.shape.output.total is a number; it has no field "cents"',
      'wf.yaml:22:91  Workflow WF-900: {{ steps.shape.output.skus[0].x }}: steps.shape.output.skus[0] is a string; it has no field "x"',
    ]);
  });

  it('checks the vars, operators and result types of $expr against the scope and the action input', () => {
    const lines = check(`steps:
  - id: a
    uses: core.log
    with:
      message: { $expr: { "+": [{ var: input.amont }, 1] } }
      level: { $expr: { upperr: [info] } }
  - id: b
    uses: core.log
    with:
      message: { $expr: { cat: ["{{ input.name }}", "!"] } }
      data: { $expr: { lower: [{ var: secrets.KEY }] }, extra: 1 }
  - id: c
    uses: core.log
    with:
      message: { $expr: { join: [{ var: input.items }, ","] } }
`);
    expect(lines).toEqual([
      'wf.yaml:15:7  Workflow WF-900: this $expr computes a number, but message of core.log takes a string',
      'wf.yaml:15:40  Workflow WF-900: var "input.amont": input has no field "amont" in the workflow input schema; did you mean "amount"?',
      'wf.yaml:16:25  Workflow WF-900: unknown JSON Logic operator "upperr"',
      'wf.yaml:20:34  Workflow WF-900: {{ input.name }}: templates are not rendered inside $expr; read the value with { "var": "input.name" }',
      'wf.yaml:21:7  Workflow WF-900: $expr stands alone in its object: write { $expr: <rule> } without "extra"',
    ]);
  });

  it('checks the workflow output like step templates, without secrets', () => {
    const lines = check(`steps:
  - id: shape
    uses: core.set
    with: { value: { total: 3 } }
  - id: maybe
    uses: core.set
    if: { var: input.amount }
    with: { value: { x: 1 } }
output:
  total: "{{ steps.shape.output.totl }}"
  key: "{{ secrets.KEY }}"
  count: { $expr: { length: [{ var: input.items }] } }
  logged: "{{ steps.maybe.status }}"
  maybe: "{{ steps.maybe.output.x }}"
`);
    expect(lines).toEqual([
      'wf.yaml:20:11  Workflow WF-900: {{ steps.shape.output.totl }}: steps.shape.output has no field "totl" in the output of core.set; did you mean "total"?',
      'wf.yaml:21:9  Workflow WF-900: {{ secrets.KEY }}: secrets cannot be read here (only trigger, input, steps, tenant, run)',
      'wf.yaml:24:11  warning: Workflow WF-900: {{ steps.maybe.output.x }}: step "maybe" may be skipped (it has an `if`), and then steps.maybe.output.x does not exist; add a fallback: {{ steps.maybe.output.x ?? \'\' }}',
    ]);
  });

  it('accepts a valid workflow with computed values and an output', () => {
    expect(
      check(`steps:
  - id: shape
    uses: core.set
    with:
      value:
        due: { $expr: { date_format: [{ date_add: [{ now: [] }, 3d] }, yyyy-MM-dd, Europe/Paris] } }
        qty: { $expr: { sum: [{ map: [{ var: input.items }, { var: qty }] }] } }
  - id: say
    uses: core.log
    if: { ">": [{ length: [{ var: input.items }] }, 0] }
    with:
      message: { $expr: { cat: ["due ", { var: steps.shape.output.due }] } }
output:
  due: "{{ steps.shape.output.due }}"
  qty: { $expr: { var: steps.shape.output.qty } }
`),
    ).toEqual([]);
  });
});

describe('names a construct adds to the scope (a loop item, loop.index)', () => {
  const model: ScopeModel = {
    roots: ['trigger', 'input', 'steps', 'tenant'],
    triggerType: 'manual',
    input: { type: 'object' },
    steps: new Map(),
    locals: {
      invoice: { type: 'object', properties: { id: { type: 'string' }, amount: { type: 'integer' } } },
      loop: { type: 'object', properties: { index: { type: 'integer' } }, additionalProperties: false },
    },
  };

  it('checks reads of them like any root, with did-you-mean', () => {
    expect(checkScopePath(['invoice', 'amount'], model)).toBeUndefined();
    expect(checkScopePath(['loop', 'indx'], model)).toBe(
      'loop has no field "indx" in the loop value; did you mean "index"?',
    );
    expect(checkScopePath(['invoce', 'id'], model)).toBe('unknown root "invoce"; did you mean "invoice"?');
  });

  it('types $expr rules that read them', () => {
    expect(exprType({ '+': [{ var: 'loop.index' }, 1] }, model)).toEqual({ type: 'number' });
    expect(exprType({ var: 'invoice.id' }, model)).toEqual({ type: 'string' });
    expect(exprType({ var: 'invoice' }, model)).toEqual(model.locals!.invoice);
  });
});
