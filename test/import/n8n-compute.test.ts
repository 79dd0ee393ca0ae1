// n8n expressions that compute, and the time, loop and sub-workflow nodes, translated exactly
// or refused with a reason: never a guess.
import { describe, expect, it } from 'vitest';
import { computeRule } from '../../engine/import/n8n/compute.ts';
import { readWorkflow } from '../../engine/import/n8n/export.ts';
import { isProblem, type Path, type Problem } from '../../engine/import/n8n/problem.ts';
import { node, START, stepsOf, workflow } from './n8n-workflow.ts';

const notes: string[] = [];
const ctx = {
  resolve: (node: string | null, path: Path) => [node ?? 'input', ...path],
  note: (t: string) => notes.push(t),
};
const rule = (js: string) => {
  const r = computeRule(js, ctx);
  if (isProblem(r)) throw new Error(r.message);
  return r.rule;
};
const refusal = (js: string) => {
  const r = computeRule(js, ctx);
  if (!isProblem(r)) throw new Error(`translated ${JSON.stringify(r)}`);
  return (r as Problem).message;
};

describe('n8n expressions that compute', () => {
  it('translates arithmetic, comparisons, conditions and string methods exactly', () => {
    expect(rule('$json.price * 2')).toEqual({ '*': [{ var: 'input.price' }, 2] });
    expect(rule('($json.a - 1) / 4 % 3')).toEqual({
      '%': [{ '/': [{ '-': [{ var: 'input.a' }, 1] }, 4] }, 3],
    });
    expect(rule("$json.n > 3 ? 'big' : 'small'")).toEqual({
      if: [{ '>': [{ var: 'input.n' }, 3] }, 'big', 'small'],
    });
    expect(rule("$json.name.toLowerCase() === 'ada' && !$json.blocked")).toEqual({
      and: [{ '===': [{ lower: [{ var: 'input.name' }] }, 'ada'] }, { '!': [{ var: 'input.blocked' }] }],
    });
    expect(rule("'#' + $json.id")).toEqual({ cat: ['#', { var: 'input.id' }] });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an n8n template literal, as n8n stores it
    expect(rule('`${$json.first} ${$json.last}`')).toEqual({
      cat: [{ var: 'input.first' }, ' ', { var: 'input.last' }],
    });
    expect(rule("$json.tags.join(', ')")).toEqual({ join: [{ var: 'input.tags' }, ', '] });
    expect(rule('$json.tags.length')).toEqual({ length: [{ var: 'input.tags' }] });
    expect(rule("$json.nick ?? 'anonymous'")).toEqual({ default: [{ var: 'input.nick' }, 'anonymous'] });
    expect(rule("$('Lookup').item.json.total * 1")).toEqual({ '*': [{ var: 'Lookup.total' }, 1] });
  });

  it("turns $now into the run's trigger time, with Luxon's plus, minus and toFormat", () => {
    notes.length = 0;
    expect(rule("$now.plus({ days: 3, hours: 2 }).toFormat('yyyy-MM-dd')")).toEqual({
      date_format: [{ date_add: [{ now: [] }, '3d2h'] }, 'yyyy-MM-dd', 'UTC'],
    });
    expect(rule('$now.minus({ weeks: 2 }).toISO()')).toEqual({ date_add: [{ now: [] }, '-14d'] });
    expect(rule('$now.plus({ months: 1 })')).toEqual({ date_add: [{ now: [] }, 'P1M'] });
    expect(notes.join(' ')).toContain('trigger time');
  });

  it('refuses what has no exact meaning, naming it', () => {
    expect(refusal('$json.a + $json.b')).toContain('adds numbers or joins text');
    expect(refusal('Math.round($json.a)')).toContain('Math.round');
    expect(refusal('$json.items.map(i => i.id)')).toContain('.map()');
    expect(refusal('(() => process.exit())()')).toContain('a function call');
    expect(refusal('$json.a = 1')).toContain('an assignment');
    expect(refusal("'}} {{ secrets.KEY }}'")).toContain('braces');
    expect(refusal('$now.plus({ days: $json.n })')).toContain('not a literal');
    expect(refusal('$now.plus({ months: 1, days: 2 })')).toContain('mixing months');
    expect(refusal('$json.a; $json.b')).toContain('more than one expression');
    expect(refusal('$json.a ||')).toContain('not a JavaScript expression');
    expect(refusal('$today')).toContain('$today');
  });
});

describe('n8n time, loop and sub-workflow nodes', () => {
  it('maps Wait to a durable sleep, a wait until a time, or a signal named resume', () => {
    const timed = stepsOf(
      workflow([node('Pause', 'wait', 1.1, { amount: 1.5, unit: 'hours' })], ['Start', 'Pause']),
    );
    expect(timed.steps[0]).toMatchObject({ uses: 'core.sleep', with: { duration: '90m' } });
    const until = stepsOf(
      workflow(
        [node('Until', 'wait', 1.1, { resume: 'specificTime', dateTime: '2027-01-01T09:00:00Z' })],
        ['Start', 'Until'],
      ),
    );
    expect(until.steps[0]).toMatchObject({ uses: 'core.waitUntil', with: { until: '2027-01-01T09:00:00Z' } });
    const call = stepsOf(
      workflow(
        [
          node('Hold', 'wait', 1.1, {
            resume: 'webhook',
            limitWaitTime: true,
            resumeAmount: 2,
            resumeUnit: 'days',
          }),
          node('Use', 'set', 3.4, {
            assignments: { assignments: [{ name: 'ok', type: 'string', value: '={{ $json.body.answer }}' }] },
          }),
        ],
        ['Start', 'Hold', 'Use'],
      ),
    );
    expect(call.steps[0]).toMatchObject({
      uses: 'core.waitForSignal',
      with: { name: 'resume', timeout: '2d' },
      onTimeout: { output: {} },
    });
    expect(call.steps[1]).toMatchObject({ with: { value: { ok: '{{ steps.hold.output.answer }}' } } });
    expect(call.c.notes.join(' ')).toContain('/signals/resume');
    const form = stepsOf(workflow([node('Form', 'wait', 1.1, { resume: 'form' })], ['Start', 'Form']));
    expect(form.c.untranslated[0]!.message).toContain('Atlas has no forms');
  });

  it('maps Date & Time to computed values, and refuses a format in an unknown time zone', () => {
    const add = stepsOf(
      workflow(
        [
          node('Later', 'dateTime', 2, {
            operation: 'subtractFromDate',
            magnitude: '2026-01-31T00:00:00Z',
            timeUnit: 'quarters',
            duration: 1,
          }),
        ],
        ['Start', 'Later'],
      ),
    );
    expect(add.steps[0]).toMatchObject({
      uses: 'core.set',
      with: { value: { newDate: { $expr: { date_add: ['2026-01-31T00:00:00Z', '-P3M'] } } } },
    });
    const fmt = (extra: Record<string, unknown>, options: Record<string, unknown> = {}) =>
      stepsOf(
        workflow(
          [
            node('Fmt', 'dateTime', 2, {
              operation: 'formatDate',
              date: '={{ $now }}',
              format: 'custom',
              customFormat: 'dd LLL',
              options,
            }),
          ],
          ['Start', 'Fmt'],
          extra,
        ),
        extra.settings ? { timezone: (extra.settings as { timezone: string }).timezone } : {},
      );
    expect(fmt({}).c.untranslated[0]!.message).toContain("instance's time zone");
    expect(fmt({}, { timezone: 'Europe/Paris' }).steps[0]).toMatchObject({
      with: { value: { formattedDate: { $expr: { date_format: [{ now: [] }, 'dd LLL', 'Europe/Paris'] } } } },
    });
  });

  it('calls a sub-workflow imported beside it, and refuses one that is not', () => {
    const parent = workflow(
      [
        node('Call', 'executeWorkflow', 1.2, {
          workflowId: { __rl: true, value: 'c1', mode: 'list' },
          workflowInputs: { mappingMode: 'defineBelow', value: { name: 'Ada' } },
          options: { waitForSubWorkflow: false },
        }),
      ],
      ['Start', 'Call'],
    );
    const known = stepsOf(parent, { workflows: new Map([['c1', 'WF-101']]) });
    expect(known.steps[0]).toMatchObject({
      uses: 'workflow.run',
      with: { workflow: 'WF-101', input: { name: 'Ada' }, wait: false },
    });
    expect(stepsOf(parent).c.untranslated[0]!.message).toContain('not in this import');
  });

  it('loops the nodes after a Split Out, and refuses what cannot run per item', () => {
    const split = node('Split', 'splitOut', 1, { fieldToSplitOut: 'rows' });
    const branch = node('Check', 'if', 2, {
      conditions: {
        conditions: [
          {
            leftValue: '={{ $json.ok }}',
            rightValue: true,
            operator: { type: 'boolean', operation: 'true' },
          },
        ],
      },
    });
    const { steps, c } = stepsOf(workflow([split, branch], ['Start', 'Split', 'Check']));
    expect(steps).toHaveLength(1);
    expect(c.untranslated[0]!.message).toContain('per item of a loop');
    const nested = stepsOf(
      workflow([split, node('Again', 'splitOut', 1, { fieldToSplitOut: 'x' })], ['Start', 'Split', 'Again']),
    );
    expect(nested.c.untranslated[0]!.message).toContain('do not nest');
    const single = stepsOf(
      workflow([node('Gather', 'aggregate', 1, { aggregate: 'aggregateAllItemData' })], ['Start', 'Gather']),
    );
    expect(single.c.untranslated[0]!.message).toContain('single item');
    const longWait = stepsOf(
      workflow([split, node('Slow', 'wait', 1.1, { amount: 2, unit: 'hours' })], ['Start', 'Split', 'Slow']),
    );
    expect(longWait.c.untranslated[0]!.message).toContain('more than an hour per item');
  });

  it("runs Loop Over Items' body per item of a split list, and leaves its done output explicit", () => {
    const wf = readWorkflow(
      {
        name: 'loop',
        nodes: [
          START,
          node('Split', 'splitOut', 1, { fieldToSplitOut: 'rows' }),
          node('Loop', 'splitInBatches', 3, { options: {} }),
          node('Shout', 'set', 3.4, {
            assignments: {
              assignments: [{ name: 'loud', type: 'string', value: '={{ $json.name.toUpperCase() }}' }],
            },
          }),
          node('After', 'noOp', 1, {}),
        ],
        connections: {
          Start: { main: [[{ node: 'Split', type: 'main', index: 0 }]] },
          Split: { main: [[{ node: 'Loop', type: 'main', index: 0 }]] },
          Loop: {
            main: [[{ node: 'After', type: 'main', index: 0 }], [{ node: 'Shout', type: 'main', index: 0 }]],
          },
          Shout: { main: [[{ node: 'Loop', type: 'main', index: 0 }]] },
        },
      },
      'loop.json',
    );
    const { steps, c } = stepsOf(wf);
    expect(steps.find((s) => s['id'] === 'shout')).toMatchObject({
      forEach: '{{ input.rows }}',
      with: { value: { loud: { $expr: { cat: [{ upper: [{ var: 'item.name' }] }] } } } },
    });
    expect(c.untranslated.map((u) => [u.node, u.message])).toEqual([
      ['After', expect.stringContaining('runs when the loop is done')],
    ]);
    const batches = stepsOf(
      workflow(
        [
          node('Split', 'splitOut', 1, { fieldToSplitOut: 'rows' }),
          node('Loop', 'splitInBatches', 3, { batchSize: 10 }),
        ],
        ['Start', 'Split', 'Loop'],
      ),
    );
    expect(batches.c.untranslated[0]!.message).toContain('batches of 10 items');
  });

  it('reads a Set in JSON mode with expressions inside, keeping bare values typed', () => {
    const { steps } = stepsOf(
      workflow(
        [
          node('Shape', 'set', 3.4, {
            mode: 'raw',
            jsonOutput: '={ "total": {{ $json.a * 2 }}, "label": "n {{ $json.b }}", "same": {{ $json.c }} }',
          }),
        ],
        ['Start', 'Shape'],
      ),
    );
    expect(steps[0]).toMatchObject({
      uses: 'core.set',
      with: {
        value: {
          total: { $expr: { '*': [{ var: 'input.a' }, 2] } },
          label: 'n {{ input.b }}',
          same: '{{ input.c }}',
        },
      },
    });
  });

  it("sends an HTTP Request's credentials through http.request's auth: a secret by name, or a connected account", () => {
    const sheets = {
      ...node('Read sheet', 'httpRequest', 4.2, {
        method: 'GET',
        url: 'https://sheets.googleapis.com/v4/spreadsheets/abc/values/A1:B2',
        authentication: 'predefinedCredentialType',
        nodeCredentialType: 'googleSheetsOAuth2Api',
        options: {},
      }),
      credentials: { googleSheetsOAuth2Api: { id: '1', name: 'Sheets of Ada' } },
    };
    const { steps, c } = stepsOf(workflow([sheets], ['Start', 'Read sheet']));
    expect(steps[0]).toMatchObject({ uses: 'http.request', with: { auth: { integration: 'google' } } });
    expect(steps[0]!['with']).not.toHaveProperty('headers');
    expect([...c.integrations.keys()]).toEqual(['google']);
    const bearer = {
      ...node('Ledger', 'httpRequest', 4.2, {
        method: 'GET',
        url: 'https://ledger.example/entries',
        authentication: 'genericCredentialType',
        genericAuthType: 'httpBearerAuth',
        options: {},
      }),
      credentials: { httpBearerAuth: { id: '2', name: 'Ledger token' } },
    };
    expect(stepsOf(workflow([bearer], ['Start', 'Ledger'])).steps[0]).toMatchObject({
      with: { auth: { bearer: 'LEDGER_TOKEN' } },
    });
  });
});
