import { describe, expect, it } from 'vitest';
import { builtinConnectors } from '../../connectors/index.ts';
import { formatErrors, validateSources } from '../../engine/manifest/index.ts';

const wf = (id: string, steps: string, extra = '') =>
  `apiVersion: atlas/v1\nkind: Workflow\nid: ${id}\ntrigger: { type: manual }\n${extra}steps:\n${steps}`;
const call = (child: string, input = '{}') =>
  `  - id: sub\n    uses: workflow.run\n    with:\n      workflow: ${child}\n      input: ${input}\n`;
const CHILD = wf(
  'WF-901',
  '  - id: hi\n    uses: core.noop\n',
  'input: { type: object, required: [email], properties: { email: { type: string }, count: { type: integer } } }\n',
);

function check(files: Record<string, string>): string[] {
  const sources = Object.entries(files).map(([file, text]) => ({ file, text }));
  const { errors } = validateSources(sources, { connectors: builtinConnectors });
  return formatErrors(errors)
    .split('\n')
    .filter((l) => l !== '');
}

describe('static checks of workflow.run', () => {
  it('accepts a call whose literal input fits the child input schema; templated values wait for the run', () => {
    expect(
      check({
        'child.yaml': CHILD,
        'parent.yaml': wf('WF-900', call('WF-901', '{ email: "{{ input.email }}", count: 2 }')),
      }),
    ).toEqual([]);
  });

  it("reports input that does not fit the child's input schema, where it is written", () => {
    const lines = check({
      'child.yaml': CHILD,
      'parent.yaml': wf('WF-900', call('WF-901', '{ count: "two" }')),
    });
    expect(lines.join('\n')).toMatch(/parent\.yaml:\d+:\d+ .*email.*\(input of WF-901\)/);
    expect(lines.join('\n')).toMatch(/parent\.yaml:\d+:\d+ .*count.*integer.*\(input of WF-901\)/);
  });

  it('reports an unknown child with did-you-mean, and a templated workflow id', () => {
    const unknown = check({ 'child.yaml': CHILD, 'parent.yaml': wf('WF-900', call('WF-910')) });
    expect(unknown.join('\n')).toMatch(
      /parent\.yaml:9:17 .*there is no Workflow "WF-910"; did you mean "WF-901"\?/,
    );
    const templated = check({ 'parent.yaml': wf('WF-900', call('"{{ input.which }}"')) });
    expect(templated.join('\n')).toMatch(/parent\.yaml:9:\d+ .*(workflow must be a workflow id|pattern)/);
  });

  it('reports a cycle of calls at every call on it, with file:line:col', () => {
    const lines = check({
      'a.yaml': wf('WF-900', call('WF-901')),
      'b.yaml': wf('WF-901', call('WF-902')),
      'c.yaml': wf('WF-902', call('WF-900')),
      'self.yaml': wf('WF-903', call('WF-903')),
    });
    const cycle = 'sub-workflows call each other in a cycle';
    expect(lines.filter((l) => l.includes(cycle))).toHaveLength(4);
    expect(lines.join('\n')).toContain(`a.yaml:9:17`);
    expect(lines.join('\n')).toContain('(WF-900 -> WF-901 -> WF-902 -> WF-900)');
    expect(lines.join('\n')).toContain('(WF-903 -> WF-903)');
  });

  it('refuses workflow.run per item of a forEach', () => {
    const lines = check({
      'child.yaml': CHILD,
      'parent.yaml': wf(
        'WF-900',
        '  - id: sub\n    uses: workflow.run\n    forEach: "{{ input.list }}"\n    with: { workflow: WF-901, input: { email: x } }\n',
      ),
    });
    expect(lines.join('\n')).toContain('workflow.run cannot run per item of a forEach');
  });
});
