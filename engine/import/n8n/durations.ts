// Durations in n8n's words (a Wait node's amount and unit, Luxon's `{ days: 3 }`) as Atlas
// durations (`3d`, `90m`, `P1M`).
import type { Expression } from 'acorn';
import { clip, Problem } from './problem.ts';

const SECONDS: Record<string, number> = { seconds: 1, minutes: 60, hours: 3_600, days: 86_400 };

/** A Wait node's amount and unit (`1.5`, `hours`) in milliseconds. */
export function durationMs(amount: unknown, unit: unknown): number | Problem {
  const u = String(unit ?? 'hours');
  const factor = SECONDS[u];
  if (factor === undefined) return new Problem(`the wait unit "${u}" is not one n8n has`);
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0)
    return new Problem('a wait amount that is not a number (an expression); give a fixed amount');
  return Math.round(amount * factor * 1000);
}

/** Milliseconds as the largest Atlas unit that holds them exactly: `5400000` → `"90m"`. */
export function msText(ms: number): string {
  for (const [suffix, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const)
    if (ms % size === 0 && ms > 0) return `${ms / size}${suffix}`;
  return ms === 0 ? '0s' : `${ms}ms`;
}

/** `1.5 hours` → `"90m"`. */
export function durationText(amount: unknown, unit: unknown): string | Problem {
  const ms = durationMs(amount, unit);
  return ms instanceof Problem ? ms : msText(ms);
}

/** Luxon units n8n's `$now.plus({ days: 3 })` takes: an Atlas duration unit and its factor. */
const UNITS: Record<string, [string, number]> = {
  second: ['s', 1],
  minute: ['m', 1],
  hour: ['h', 1],
  day: ['d', 1],
  week: ['d', 7],
};
/** Calendar units, which Atlas takes as ISO 8601 durations (`P1M`). */
const CALENDAR: Record<string, string> = { month: 'M', year: 'Y' };

/** `{ days: 3, hours: 2 }` → `"3d2h"`, `{ months: 1 }` → `"P1M"` (negated for minus). */
export function durationOf(node: Expression, negate: boolean): string | Problem {
  if (node.type !== 'ObjectExpression') return new Problem('a duration that is not a literal');
  let clock = '';
  let calendar = '';
  for (const prop of node.properties) {
    if (prop.type !== 'Property' || prop.computed || prop.value.type !== 'Literal')
      return new Problem('a duration that is not a literal { unit: number }');
    const key =
      prop.key.type === 'Identifier' ? prop.key.name : String((prop.key as { value?: unknown }).value);
    const singular = key.replace(/s$/, '');
    const amount = prop.value.value;
    if (typeof amount !== 'number' || !Number.isInteger(amount) || amount < 0)
      return new Problem(`the duration "${clip(key, 20)}" is not a whole, positive number`);
    const unit = UNITS[singular];
    const cal = CALENDAR[singular];
    if (unit) clock += `${amount * unit[1]}${unit[0]}`;
    else if (cal) calendar += `${amount}${cal}`;
    else return new Problem(`the duration unit "${clip(key, 20)}" has no exact Atlas duration`);
  }
  if (clock !== '' && calendar !== '')
    return new Problem('a duration mixing months or years with days or hours; add them in two steps');
  const text = calendar !== '' ? `P${calendar}` : clock;
  if (text === '') return new Problem('an empty duration');
  return negate ? `-${text}` : text;
}
