import { describe, expect, it } from 'vitest';
import { evaluate, isTruthy, LOGIC_OPERATORS, logicVars, scanLogic } from '../../engine/expr/index.ts';

describe('JSON Logic', () => {
  const data = { input: { n: 3, items: [{ id: 1 }, { id: 9 }] }, trigger: { type: 'webhook' } };

  it('evaluates standard rules against the scope', () => {
    expect(evaluate({ '==': [{ var: 'input.n' }, 3] }, data)).toBe(true);
    expect(evaluate({ some: [{ var: 'input.items' }, { '>': [{ var: 'id' }, 5] }] }, data)).toBe(true);
    expect(evaluate({ if: [{ var: 'trigger.type' }, 'yes', 'no'] }, data)).toBe('yes');
    expect(evaluate(true, data)).toBe(true);
  });

  it('rejects unknown operators instead of evaluating them to false', () => {
    expect(() => evaluate({ log: 'x' }, data)).toThrow('unknown JSON Logic operator "log"');
    expect(() => evaluate({ and: [{ equals: [1, 1] }] }, data)).toThrow('"equals"');
    expect(LOGIC_OPERATORS.has('log')).toBe(false);
  });

  it('lists the vars read from the scope, not those read from array items', () => {
    const rule = {
      and: [
        { '==': [{ var: 'input.n' }, 3] },
        { all: [{ var: 'input.items' }, { var: 'id' }] },
        { var: ['x.y', 0] },
      ],
    };
    expect(logicVars(rule).map((v) => [v.name, v.at, v.hasDefault])).toEqual([
      ['input.n', ['and', 0, '==', 0, 'var'], false],
      ['input.items', ['and', 1, 'all', 0, 'var'], false],
      ['x.y', ['and', 2, 'var', 0], true],
    ]);
    expect(scanLogic(rule).vars.find((v) => v.name === 'id')?.local).toBe(true);
    expect(logicVars({ var: 'steps.a.output.0' })[0]?.path).toEqual(['steps', 'a', 'output', 0]);
  });

  it('uses JSON Logic truthiness', () => {
    expect(isTruthy([])).toBe(false);
    expect(isTruthy('0')).toBe(true);
  });

  it('reads `now` from a Date as from its ISO text, and refuses an invalid one', () => {
    const at = new Date('2026-03-28T23:30:00.123Z');
    expect(evaluate({ now: [] }, data, at)).toBe('2026-03-28T23:30:00.123Z');
    expect(evaluate({ now: [] }, data, at)).toBe(evaluate({ now: [] }, data, at.toISOString()));
    expect(evaluate({ now: [] }, data, '2026-03-29T00:30:00.123+01:00')).toBe('2026-03-28T23:30:00.123Z');
    expect(() => evaluate({ now: [] }, data, new Date('nope'))).toThrow('is not an ISO 8601 date');
  });
});
