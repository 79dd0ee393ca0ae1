import { describe, expect, it } from 'vitest';
import {
  evaluate,
  inferType,
  renderSync,
  type Schema,
  scanLogic,
  TemplateError,
  templateRefs,
} from '../../engine/expr/index.ts';

const scope = {
  trigger: { type: 'manual', at: '2026-03-28T23:30:00.000Z' },
  input: {
    amount: 21.5,
    name: 'Ada Lovelace',
    tags: ['a', 'b', 'c'],
    invoices: [
      { id: 'in_1', amount: 100, overdue: true },
      { id: 'in_2', amount: 250, overdue: false },
      { id: 'in_3', amount: 40, overdue: true },
    ],
  },
  steps: { shape: { output: { total: 3 }, status: 'succeeded' } },
  tenant: { id: 't1', config: {} },
  secrets: { KEY: 'sk-very-secret' },
};

const compute = (rule: unknown, now?: string) =>
  renderSync({ $expr: rule }, { ...scope, ...(now ? { now } : {}) });

describe('$expr computed values', () => {
  it('computes with JSON Logic over the scope, keeping the result type', () => {
    expect(compute({ '*': [{ var: 'input.amount' }, 2] })).toBe(43);
    expect(
      renderSync({ total: { $expr: { '+': [{ var: 'steps.shape.output.total' }, 1] } } }, scope),
    ).toEqual({
      total: 4,
    });
    expect(compute({ filter: [{ var: 'input.invoices' }, { var: 'overdue' }] })).toHaveLength(2);
  });

  it('has the string, list and default operations automations need', () => {
    expect(compute({ lower: [{ var: 'input.name' }] })).toBe('ada lovelace');
    expect(compute({ upper: 'x' })).toBe('X');
    expect(compute({ join: [{ var: 'input.tags' }, ', '] })).toBe('a, b, c');
    expect(compute({ split: [{ var: 'input.name' }, ' '] })).toEqual(['Ada', 'Lovelace']);
    expect(compute({ slice: [{ var: 'input.tags' }, 1] })).toEqual(['b', 'c']);
    expect(compute({ slice: [{ var: 'input.name' }, 0, 3] })).toBe('Ada');
    expect(compute({ length: [{ var: 'input.tags' }] })).toBe(3);
    expect(
      compute({
        sum: [{ map: [{ filter: [{ var: 'input.invoices' }, { var: 'overdue' }] }, { var: 'amount' }] }],
      }),
    ).toBe(140);
    expect(compute({ default: [{ var: 'input.missing' }, null, 'fallback'] })).toBe('fallback');
    expect(compute({ join: [{ map: [{ var: 'input.invoices' }, { var: 'id' }] }, ','] })).toBe(
      'in_1,in_2,in_3',
    );
  });

  it('computes dates from the recorded time, never from the clock', () => {
    const now = '2026-03-28T23:30:00.000Z';
    expect(compute({ now: [] }, now)).toBe(now);
    expect(compute({ date_add: [{ now: [] }, '3d'] }, now)).toBe('2026-03-31T23:30:00.000Z');
    expect(compute({ date_add: [{ now: [] }, '-90m'] }, now)).toBe('2026-03-28T22:00:00.000Z');
    expect(compute({ date_add: ['2026-01-31T00:00:00Z', 'P1M'] })).toBe('2026-02-28T00:00:00.000Z');
    // 23:30 UTC is already the next day in Paris, and the clocks go forward that night.
    expect(compute({ date_format: [{ now: [] }, 'yyyy-MM-dd HH:mm ZZZZ', 'Europe/Paris'] }, now)).toBe(
      '2026-03-29 00:30 GMT+1',
    );
    expect(compute({ date_format: [{ date_add: [{ now: [] }, '2h'] }, 'HH:mm', 'Europe/Paris'] }, now)).toBe(
      '03:30',
    );
    expect(compute({ date_format: ['2026-03-28T10:00:00Z', 'cccc d LLLL'] })).toBe('Saturday 28 March');
    // The same rule gives the same value a second later: `now` is not the clock.
    expect(compute({ now: [] }, now)).toBe(now);
  });

  it('fails with a sentence naming the operation on bad arguments', () => {
    const fails = (rule: unknown, message: string, now?: string) => {
      expect(() => compute(rule, now)).toThrow(TemplateError);
      expect(() => compute(rule, now)).toThrow(message);
    };
    fails({ now: [] }, 'now is not available here');
    fails({ date_add: ['yesterday', '1d'] }, 'date_add: "yesterday" is not an ISO 8601 date');
    fails({ date_add: ['2026-01-01', 'soon'] }, 'date_add: "soon" is not a duration');
    fails({ date_format: ['2026-01-01', 'yyyy', 'Mars/Olympus'] }, '"Mars/Olympus" is not a time zone');
    fails({ upper: [{ var: 'input.amount' }] }, 'upper needs a string, got the number 21.5');
    fails({ sum: [{ var: 'input.tags' }] }, 'sum adds numbers, got the string "a"');
    fails({ join: [{ var: 'input.invoices' }] }, 'join joins strings and numbers, got an object');
    fails({ log: 'x' }, 'unknown JSON Logic operator "log"');
    expect(() => renderSync({ $expr: 1, other: 2 }, scope)).toThrow('$expr stands alone in its object');
  });

  it('never renders templates inside a rule, and never sees secrets', () => {
    expect(compute({ cat: ['{{ secrets.KEY }}', '!'] })).toBe('{{ secrets.KEY }}!');
    expect(compute({ var: 'secrets.KEY' })).toBeNull();
    expect(templateRefs({ a: '{{ input.name }}', b: { $expr: { cat: ['{{ input.x }}'] } } })).toHaveLength(1);
    // A value read at run time is data, never a rule.
    const hostile = { ...scope, input: { ...scope.input, name: { var: 'tenant.id' } } };
    expect(renderSync({ $expr: { var: 'input.name' } }, hostile)).toEqual({ var: 'tenant.id' });
  });

  it('reads the names a construct adds (a loop item, loop.index) in templates and rules', () => {
    const withLocals = { ...scope, locals: { invoice: { id: 'in_9' }, loop: { index: 4 } } };
    expect(renderSync('{{ invoice.id }} #{{ loop.index }}', withLocals)).toBe('in_9 #4');
    expect(renderSync({ $expr: { '+': [{ var: 'loop.index' }, 1] } }, withLocals)).toBe(5);
    expect(() => renderSync('{{ invoice.id }}', scope)).toThrow('unknown root "invoice"');
  });

  it('allows the added operations in `if` conditions, and still refuses unknown ones', () => {
    expect(evaluate({ '>': [{ length: [{ var: 'input.tags' }] }, 2] }, scope)).toBe(true);
    expect(scanLogic({ upper: 'x' }).unknownOperators).toEqual([]);
    expect(scanLogic({ method: ['x', 'toString'] }).unknownOperators.map((u) => u.operator)).toEqual([
      'method',
    ]);
  });
});

describe('$expr result types', () => {
  const schemas: Record<string, Schema> = {
    'input.amount': { type: 'number' },
    'input.invoices': {
      type: 'array',
      items: { type: 'object', properties: { id: { type: 'string' }, amount: { type: 'integer' } } },
    },
  };
  const resolve = (path: (string | number)[]) => schemas[path.join('.')] ?? {};
  const type = (rule: unknown) => inferType(rule, resolve);

  it('knows what each operation returns', () => {
    expect(type({ '*': [{ var: 'input.amount' }, 2] })).toEqual({ type: 'number' });
    expect(type({ '>': [1, 2] })).toEqual({ type: 'boolean' });
    expect(type({ date_add: [{ now: [] }, '3d'] })).toEqual({ type: 'string', format: 'date-time' });
    expect(type({ length: 'abc' })).toEqual({ type: 'integer' });
    expect(type({ split: ['a b', ' '] })).toEqual({ type: 'array', items: { type: 'string' } });
    expect(type({ var: 'input.amount' })).toEqual({ type: 'number' });
    expect(type({ var: 'input.unknown' })).toEqual({});
  });

  it('types map bodies from the list items, and unions branches', () => {
    expect(type({ map: [{ var: 'input.invoices' }, { var: 'id' }] })).toEqual({
      type: 'array',
      items: { type: 'string' },
    });
    expect(type({ filter: [{ var: 'input.invoices' }, { var: 'amount' }] })).toEqual(
      schemas['input.invoices'],
    );
    expect(type({ if: [true, 'a', 'b'] })).toEqual({ type: 'string' });
    expect(type({ if: [true, 'a', 1] })).toEqual({ anyOf: [{ type: 'string' }, { type: 'integer' }] });
    expect(type({ default: [{ var: 'input.amount' }, null, 0] })).toEqual({
      anyOf: [{ type: 'number' }, { type: 'integer' }],
    });
  });
});
